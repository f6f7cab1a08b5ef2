using System;

namespace MnistExample;

/// <summary>A problem the user can fix (a missing file, a bad option), reported as one line without a stack trace.</summary>
public sealed class CommandException(string message) : Exception(message);
