using System;
using System.CommandLine;
using System.IO;

namespace MnistExample;

/// <summary>The <c>mnist</c> command line: train, eval and predict LeNet-5 on MNIST.</summary>
public static class Program
{
    /// <summary>Parses the arguments and runs the subcommand; problems end in one line on standard error and exit code 1.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("LeNet-5 on MNIST with CnnGen: a compile-time generated network, trained on all cores.")
        {
            TrainCommand.Create(),
            EvaluateCommand.Create(),
            PredictCommand.Create(),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a subcommand's body, turning the problems a user can cause into one-line errors.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is CommandException or IOException or InvalidDataException or UnauthorizedAccessException
                                      or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            Console.Error.WriteLine($"mnist: error: {e.Message}");
            return 1;
        }
    }

    /// <summary>An option with a description and a default value.</summary>
    public static Option<T> Option<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>An option with a description and no default.</summary>
    public static Option<T> Option<T>(string name, string description) => new(name) { Description = description };
}
