using System;
using System.Globalization;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>
/// Cultures whose number formats break code that formats numbers with the current culture. The compiler runs
/// generators under the developer's culture, so a float written as "0,2f" or a negative int as "−1" (U+2212)
/// would not compile on their machine.
/// </summary>
/// <remarks>
/// The repository builds with InvariantGlobalization (no ICU), where <c>new CultureInfo("de-DE")</c> throws or yields
/// invariant data. So each culture here is the invariant one with the number format ICU gives the named culture,
/// set explicitly: the test then behaves the same on every machine, with or without ICU.
/// </remarks>
internal static class TestCultures
{
    /// <summary>German: decimal comma, dot as group separator.</summary>
    public static CultureInfo German => Create(decimalSeparator: ",", groupSeparator: ".", negativeSign: "-");

    /// <summary>French: decimal comma, narrow no-break space (U+202F) as group separator.</summary>
    public static CultureInfo French => Create(decimalSeparator: ",", groupSeparator: "\u202F", negativeSign: "-");

    /// <summary>Swedish: decimal comma, no-break space as group separator, and the minus sign U+2212 for negatives.</summary>
    public static CultureInfo Swedish => Create(decimalSeparator: ",", groupSeparator: "\u00A0", negativeSign: "\u2212");

    public static CultureInfo ByName(string name) => name switch
    {
        "de-DE" => German,
        "fr-FR" => French,
        "sv-SE" => Swedish,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "No test culture of that name."),
    };

    private static CultureInfo Create(string decimalSeparator, string groupSeparator, string negativeSign)
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        var numbers = culture.NumberFormat;
        numbers.NumberDecimalSeparator = numbers.CurrencyDecimalSeparator = numbers.PercentDecimalSeparator = decimalSeparator;
        numbers.NumberGroupSeparator = numbers.CurrencyGroupSeparator = numbers.PercentGroupSeparator = groupSeparator;
        numbers.NegativeSign = negativeSign;
        return culture;
    }

    /// <summary>Runs <paramref name="action"/> with <paramref name="culture"/> as the thread's current culture and UI culture.</summary>
    public static T With<T>(CultureInfo culture, Func<T> action)
    {
        var (previous, previousUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
        try
        {
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
            CultureInfo.CurrentUICulture = previousUi;
        }
    }
}
