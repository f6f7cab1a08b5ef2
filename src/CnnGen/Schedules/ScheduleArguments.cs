using System;

namespace CnnGen.Schedules;

/// <summary>Argument checks shared by the schedules, with messages that name the problem.</summary>
internal static class ScheduleArguments
{
    public static void RequireElapsed(int elapsed)
    {
        if (elapsed < 0)
            throw new ArgumentOutOfRangeException(nameof(elapsed), elapsed, "The number of elapsed epochs or steps cannot be negative.");
    }

    public static float RequireRate(float rate, string name)
    {
        if (!(float.IsFinite(rate) && rate >= 0))
            throw new ArgumentOutOfRangeException(name, rate, $"{name} must be finite and not negative.");
        return rate;
    }

    public static int RequirePositive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
        return value;
    }

    public static ScheduleUnit RequireUnit(ScheduleUnit unit, string name)
    {
        if (unit is not (ScheduleUnit.Epoch or ScheduleUnit.Step))
            throw new ArgumentOutOfRangeException(name, unit, $"{name} must be ScheduleUnit.Epoch or ScheduleUnit.Step.");
        return unit;
    }

    /// <summary>η_min + (η_base − η_min)·(1 + cos(π·t/T))/2, in double as torch.</summary>
    public static float Cosine(double baseRate, double minimum, double t, double period) =>
        (float)(minimum + (baseRate - minimum) * (1 + Math.Cos(Math.PI * t / period)) / 2);
}
