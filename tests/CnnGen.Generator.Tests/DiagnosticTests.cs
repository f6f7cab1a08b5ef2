using System.Globalization;
using System.Linq;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Tests;

/// <summary>
/// One test per diagnostic CNN0001–CNN0019: its id, its exact location (the offending attribute, or the class name
/// for class-level problems), its full message, and that the generator then emits nothing for the class (never
/// broken code) and does not throw.
/// </summary>
public sealed class DiagnosticTests
{
    /// <summary>A user file with one class named Net carrying <paramref name="attributes"/>.</summary>
    private static string Source(string attributes, string declaration = "public partial class Net { }") => $"""
        using CnnGen;

        namespace Cases;

        {attributes}
        {declaration}
        """;

    private static string Layers(string input, params string[] layers) =>
        Source($"[Network({input})]\n" + string.Join("\n", layers));

    /// <summary>Runs the generator on <paramref name="source"/> and returns its diagnostics after the common checks.</summary>
    private static Diagnostic[] Diagnose(string source)
    {
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.True(run.Sources.IsEmpty, "A network with an error must get no generated code, but got: " +
            string.Join(", ", run.Sources.Select(s => s.HintName)));
        Assert.NotEmpty(run.GeneratorDiagnostics);
        return run.GeneratorDiagnostics.ToArray();
    }

    /// <summary>Asserts one diagnostic with this id, located on exactly <paramref name="locatedText"/>, with this message.</summary>
    private static void AssertDiagnostic(string source, string id, string locatedText, string message)
    {
        var diagnostic = Assert.Single(Diagnose(source));
        AssertIs(diagnostic, source, id, locatedText, message);
    }

    private static void AssertIs(Diagnostic diagnostic, string source, string id, string locatedText, string message)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage(CultureInfo.InvariantCulture));

        var span = diagnostic.Location.SourceSpan;
        var lineSpan = diagnostic.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.UserFile, lineSpan.Path);
        Assert.Equal(locatedText, source.Substring(span.Start, span.Length));
        // The line/column span (what an IDE and the command line show) must be the same place as the text span.
        Assert.Equal(SourceText.From(source).Lines.GetLinePositionSpan(span), lineSpan.Span);
    }

    // ---------------------------------------------------------------- class-level problems

    [Fact]
    public void CNN0001_class_not_partial()
    {
        AssertDiagnostic(Source("[Network(1, 4, 4)]\n[Dense(2)]", "public class Net { }"), "CNN0001", "Net",
            "Class 'Net' carries [Network] but is not partial: declare it 'partial class Net' so CnnGen can add the generated members");
    }

    [Fact]
    public void CNN0001_containing_type_not_partial()
    {
        string source = Source("", """
            public class Outer
            {
                [Network(1, 4, 4)]
                [Dense(2)]
                public partial class Net { }
            }
            """);
        AssertDiagnostic(source, "CNN0001", "Net",
            "Class 'Net' carries [Network], but its containing class 'Outer' is not partial: declare it 'partial class Outer' so CnnGen can add the generated members");
    }

    [Fact]
    public void CNN0002_generic_class()
    {
        AssertDiagnostic(Source("[Network(1, 4, 4)]\n[Dense(2)]", "public partial class Net<T> { }"), "CNN0002", "Net",
            "Class 'Net' carries [Network] but is generic (or nested in a generic type): a network has fixed shapes, so it cannot have type parameters");
    }

    [Fact]
    public void CNN0002_class_nested_in_a_generic_type()
    {
        string source = Source("", """
            public partial class Outer<T>
            {
                [Network(1, 4, 4)]
                [Dense(2)]
                public partial class Net { }
            }
            """);
        AssertDiagnostic(source, "CNN0002", "Net",
            "Class 'Net' carries [Network] but is generic (or nested in a generic type): a network has fixed shapes, so it cannot have type parameters");
    }

    [Fact]
    public void CNN0003_network_without_layers()
    {
        AssertDiagnostic(Source("[Network(1, 4, 4)]"), "CNN0003", "Network(1, 4, 4)",
            "Network 'Net' declares no layers: add layer attributes such as [Conv2D(...)] or [Dense(...)] after [Network]");
    }

    [Fact]
    public void CNN0017_static_class()
    {
        AssertDiagnostic(Source("[Network(1, 4, 4)]\n[Dense(2)]", "public static partial class Net { }"), "CNN0017", "Net",
            "Class 'Net' carries [Network] but is static: a network holds its parameters in an instance");
    }

    [Theory]
    [InlineData("public int Parameters;", "Parameters", "field", "Parameters")]
    [InlineData("public void Predict(System.ReadOnlySpan<float> x, System.Span<float> y) { }", "public void Predict(System.ReadOnlySpan<float> x, System.Span<float> y) { }", "method", "Predict")]
    [InlineData("public Net(int size) { }", "public Net(int size) { }", "constructor taking one int (the generated constructor takes the seed)", ".ctor")]
    [InlineData("private void Layer0_Dense_Forward() { }", "private void Layer0_Dense_Forward() { }", "method", "Layer0_Dense_Forward")]
    [InlineData("private float[] _padded0;", "_padded0", "field", "_padded0")]
    public void CNN0018_user_member_with_a_generated_name(string member, string locatedText, string kind, string name)
    {
        AssertDiagnostic(Source("[Network(1, 4, 4)]\n[Dense(2)]", "public partial class Net { " + member + " }"), "CNN0018", locatedText,
            $"The {kind} '{name}' of network 'Net' has a name the generated code declares; rename it");
    }

    [Fact]
    public void CNN0018_other_overloads_and_names_are_fine()
    {
        var run = GeneratorHarness.Run(Source("[Network(1, 4, 4)]\n[Dense(2)]",
            "public partial class Net { public void Predict(string path) { } public Net(string name) : this(0) { } public int Layers; }"))
            .AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Fact]
    public void CNN0019_layers_without_network()
    {
        string source = Source("[Conv2D(4, 3)]\n[Dense(2)]");
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.Sources);
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        AssertIs(diagnostic, source, "CNN0019", "Conv2D(4, 3)",
            "Class 'Net' has layer attributes but no [Network(channels, height, width)]: nothing is generated for it");
    }

    // ---------------------------------------------------------------- the input

    [Theory]
    [InlineData("0, 28, 28", "channel count", "0")]
    [InlineData("1, -1, 28", "height", "-1")]
    [InlineData("1, 28, 0", "width", "0")]
    public void CNN0014_input_dimension_below_one(string input, string what, string value)
    {
        AssertDiagnostic(Layers(input, "[Dense(2)]"), "CNN0014", $"Network({input})",
            $"Network 'Net': the input {what} is {value}, but it must be at least 1");
    }

    [Fact]
    public void CNN0014_every_bad_dimension_is_reported()
    {
        string source = Layers("0, 0, 5", "[Dense(2)]");
        var diagnostics = Diagnose(source);
        Assert.Equal(2, diagnostics.Length);
        AssertIs(diagnostics[0], source, "CNN0014", "Network(0, 0, 5)", "Network 'Net': the input channel count is 0, but it must be at least 1");
        AssertIs(diagnostics[1], source, "CNN0014", "Network(0, 0, 5)", "Network 'Net': the input height is 0, but it must be at least 1");
    }

    // ---------------------------------------------------------------- sizes and windows

    [Theory]
    [InlineData("[Conv2D(0, 3)]", "Conv2D(0, 3)", "Layer 0 (Conv2D): the number of output channels is 0, but it must be at least 1")]
    [InlineData("[Conv2D(4, 0, 3)]", "Conv2D(4, 0, 3)", "Layer 0 (Conv2D): the kernel height is 0, but it must be at least 1")]
    [InlineData("[Conv2D(4, 3, -1)]", "Conv2D(4, 3, -1)", "Layer 0 (Conv2D): the kernel width is -1, but it must be at least 1")]
    [InlineData("[Conv2D(4, 3, Stride = 0)]", "Conv2D(4, 3, Stride = 0)", "Layer 0 (Conv2D): Stride is 0, but it must be at least 1")]
    [InlineData("[Conv2D(4, 3, Dilation = 0)]", "Conv2D(4, 3, Dilation = 0)", "Layer 0 (Conv2D): Dilation is 0, but it must be at least 1")]
    [InlineData("[Conv2D(4, 3, Dilation = 2000000000)]", "Conv2D(4, 3, Dilation = 2000000000)", "Layer 0 (Conv2D): Dilation is 2000000000, but it must be at most 1073741823 for a 3×3 kernel")]
    [InlineData("[Conv2D(4, 3, Groups = -2)]", "Conv2D(4, 3, Groups = -2)", "Layer 0 (Conv2D): Groups is -2, but it must be at least 1")]
    [InlineData("[Conv2D(4, 3, Padding = -1)]", "Conv2D(4, 3, Padding = -1)", "Layer 0 (Conv2D): Padding is -1, but it must be zero or more")]
    [InlineData("[Conv2D(2, 3), Dense(0)]", "Dense(0)", "Layer 1 (Dense): the number of units is 0, but it must be at least 1")]
    [InlineData("[MaxPool2D(0)]", "MaxPool2D(0)", "Layer 0 (MaxPool2D): the kernel size is 0, but it must be at least 1")]
    [InlineData("[AvgPool2D(2, Stride = -1)]", "AvgPool2D(2, Stride = -1)", "Layer 0 (AvgPool2D): Stride is -1, but it must be zero or more")]
    [InlineData("[MaxPool2D(2, Padding = -1)]", "MaxPool2D(2, Padding = -1)", "Layer 0 (MaxPool2D): Padding is -1, but it must be zero or more")]
    public void CNN0004_size_below_its_minimum(string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers("1, 8, 8", layers), "CNN0004", locatedText, message);
    }

    [Theory]
    [InlineData("1, 4, 4", "[Conv2D(6, 5)]", "Conv2D(6, 5)",
        "Layer 0 (Conv2D): the 5×5 window (dilated extent 5×5) does not fit the 4×4 input padded by 0; the output would have no pixels")]
    [InlineData("1, 4, 4", "[Conv2D(2, 1, 5)]", "Conv2D(2, 1, 5)",
        "Layer 0 (Conv2D): the 1×5 window (dilated extent 1×5) does not fit the 4×4 input padded by 0; the output would have no pixels")]
    [InlineData("1, 6, 6", "[Conv2D(2, 3, Dilation = 4, Padding = 1)]", "Conv2D(2, 3, Dilation = 4, Padding = 1)",
        "Layer 0 (Conv2D): the 3×3 window (dilated extent 9×9) does not fit the 6×6 input padded by 1; the output would have no pixels")]
    [InlineData("1, 5, 5", "[Conv2D(2, 3)]\n[MaxPool2D(4)]", "MaxPool2D(4)",
        "Layer 1 (MaxPool2D): the 4×4 window (dilated extent 4×4) does not fit the 3×3 input padded by 0; the output would have no pixels")]
    public void CNN0005_window_larger_than_its_input(string input, string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers(input, layers), "CNN0005", locatedText, message);
    }

    [Theory]
    [InlineData("3, 8, 8", "[Conv2D(6, 3, Groups = 2)]", "Conv2D(6, 3, Groups = 2)", "Layer 0 (Conv2D): the 3 input channels are not divisible by Groups = 2")]
    [InlineData("4, 8, 8", "[Conv2D(6, 3, Groups = 4)]", "Conv2D(6, 3, Groups = 4)", "Layer 0 (Conv2D): the 6 output channels are not divisible by Groups = 4")]
    public void CNN0006_channels_not_divisible_by_groups(string input, string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers(input, layers), "CNN0006", locatedText, message);
    }

    [Fact]
    public void CNN0008_same_padding_with_stride_2()
    {
        AssertDiagnostic(Layers("1, 8, 8", "[Conv2D(4, 3, Stride = 2, PaddingMode = PaddingMode.Same)]"), "CNN0008",
            "Conv2D(4, 3, Stride = 2, PaddingMode = PaddingMode.Same)",
            "Layer 0 (Conv2D): PaddingMode.Same needs Stride = 1 (as in PyTorch), but Stride is 2");
    }

    [Theory]
    [InlineData("[Conv2D(4, 3)]", "Conv2D(4, 3)", "Conv2D")]
    [InlineData("[MaxPool2D(2)]", "MaxPool2D(2)", "MaxPool2D")]
    [InlineData("[AvgPool2D(2)]", "AvgPool2D(2)", "AvgPool2D")]
    [InlineData("[BatchNorm2D]", "BatchNorm2D", "BatchNorm2D")]
    [InlineData("[GlobalAvgPool2D]", "GlobalAvgPool2D", "GlobalAvgPool2D")]
    public void CNN0009_spatial_layer_after_a_dense_layer(string layer, string locatedText, string kind)
    {
        AssertDiagnostic(Layers("1, 8, 8", "[Dense(10)]", layer), "CNN0009", locatedText,
            $"Layer 1 ({kind}) needs a C×H×W input, but its input [10] is flat (it follows a Dense layer)");
    }

    [Theory]
    [InlineData("[MaxPool2D(2, Padding = 2)]", "MaxPool2D(2, Padding = 2)", "Layer 0 (MaxPool2D): Padding = 2 is more than half the 2×2 window (PyTorch allows at most 1)")]
    [InlineData("[AvgPool2D(3, Stride = 1, Padding = 2)]", "AvgPool2D(3, Stride = 1, Padding = 2)", "Layer 0 (AvgPool2D): Padding = 2 is more than half the 3×3 window (PyTorch allows at most 1)")]
    public void CNN0010_pooling_padding_more_than_half_the_window(string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers("1, 8, 8", layers), "CNN0010", locatedText, message);
    }

    // ---------------------------------------------------------------- settings out of range

    [Theory]
    [InlineData("1f", "1")]
    [InlineData("1.5f", "1.5")]
    [InlineData("-0.5f", "-0.5")]
    [InlineData("float.NaN", "NaN")]
    public void CNN0011_dropout_probability_outside_0_to_1(string probability, string shown)
    {
        AssertDiagnostic(Layers("1, 8, 8", "[Conv2D(2, 3)]", $"[Dropout({probability})]"), "CNN0011", $"Dropout({probability})",
            $"Layer 1 (Dropout): the probability is {shown}, but it must be in [0, 1)");
    }

    [Theory]
    [InlineData("Momentum = 1.5f", "Momentum is 1.5, but it must be in [0, 1]")]
    [InlineData("Momentum = -0.1f", "Momentum is -0.1, but it must be in [0, 1]")]
    [InlineData("Momentum = float.NaN", "Momentum is NaN, but it must be in [0, 1]")]
    [InlineData("Epsilon = 0f", "Epsilon is 0, but it must be a positive number")]
    [InlineData("Epsilon = -1e-5f", "Epsilon is -1E-05, but it must be a positive number")]
    [InlineData("Epsilon = float.PositiveInfinity", "Epsilon is Infinity, but it must be a positive number")]
    public void CNN0012_batch_norm_setting_out_of_range(string setting, string problem)
    {
        AssertDiagnostic(Layers("1, 8, 8", "[Conv2D(2, 3)]", $"[BatchNorm2D({setting})]"), "CNN0012", $"BatchNorm2D({setting})",
            "Layer 1 (BatchNorm2D): " + problem);
    }

    [Theory]
    [InlineData("[Conv2D(4, 3, Activation = Activation.LeakyReLU, Alpha = float.NaN)]", "Conv2D(4, 3, Activation = Activation.LeakyReLU, Alpha = float.NaN)", "Layer 0 (Conv2D): Alpha = NaN must be a finite number")]
    [InlineData("[Conv2D(4, 3)]\n[LeakyReLU(float.PositiveInfinity)]", "LeakyReLU(float.PositiveInfinity)", "Layer 1 (LeakyReLU): Alpha = Infinity must be a finite number")]
    [InlineData("[Dense(4, Activation = Activation.LeakyReLU, Alpha = float.NegativeInfinity)]", "Dense(4, Activation = Activation.LeakyReLU, Alpha = float.NegativeInfinity)", "Layer 0 (Dense): Alpha = -Infinity must be a finite number")]
    public void CNN0015_activation_alpha_not_finite(string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers("1, 8, 8", layers), "CNN0015", locatedText, message);
    }

    [Fact]
    public void CNN0015_is_not_reported_for_an_alpha_no_activation_uses()
    {
        // Alpha is only LeakyReLU's slope; with another activation it is ignored, whatever its value.
        var run = GeneratorHarness.Run(Layers("1, 8, 8", "[Conv2D(4, 3, Activation = Activation.ReLU, Alpha = float.NaN)]", "[Dense(2)]"))
            .AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Theory]
    [InlineData("[Conv2D(4, 3, Activation = (Activation)42)]", "Conv2D(4, 3, Activation = (Activation)42)", "Layer 0 (Conv2D): Activation = 42 is not a defined value")]
    [InlineData("[Conv2D(4, 3, PaddingMode = (PaddingMode)7)]", "Conv2D(4, 3, PaddingMode = (PaddingMode)7)", "Layer 0 (Conv2D): PaddingMode = 7 is not a defined value")]
    [InlineData("[Conv2D(8, 3, Winograd = (WinogradMode)4)]", "Conv2D(8, 3, Winograd = (WinogradMode)4)", "Layer 0 (Conv2D): Winograd = 4 is not a defined value")]
    [InlineData("[Conv2D(4, 3)]\n[Dense(4, Activation = (Activation)(-1))]", "Dense(4, Activation = (Activation)(-1))", "Layer 1 (Dense): Activation = -1 is not a defined value")]
    public void CNN0016_enum_value_out_of_range(string layers, string locatedText, string message)
    {
        AssertDiagnostic(Layers("1, 8, 8", layers), "CNN0016", locatedText, message);
    }

    [Theory]
    [InlineData("Conv2D(8, 5, Winograd = WinogradMode.F4x4)", "WinogradMode.F4x4", "a 5×5 kernel")]
    [InlineData("Conv2D(8, 3, Stride = 2, Dilation = 2, Winograd = WinogradMode.F2x2)", "WinogradMode.F2x2", "Stride = 2, Dilation = 2")]
    [InlineData("Conv2D(8, 3, Groups = 2, Winograd = WinogradMode.F2x2)", "WinogradMode.F2x2", "Groups = 2")]
    [InlineData("Conv2D(4, 3, Winograd = WinogradMode.F4x4)", "WinogradMode.F4x4", "4 output channels")]
    public void CNN0020_winograd_asked_of_a_convolution_it_does_not_compute(string layer, string mode, string unsuited)
    {
        AssertDiagnostic(Layers("2, 16, 16", $"[{layer}]"), "CNN0020", layer,
            $"Layer 0 (Conv2D): Winograd = {mode} computes 3×3 convolutions of stride 1 without dilation or groups, with at least 8 output channels, but this one has {unsuited}; remove it or set WinogradMode.Auto");
    }

    [Theory]
    [InlineData("WinogradMode.Auto")]
    [InlineData("WinogradMode.Off")]
    public void Winograd_auto_or_off_is_accepted_on_any_convolution(string mode)
    {
        var run = GeneratorHarness.Run(Layers("2, 16, 16", $"[Conv2D(4, 5, Stride = 2, Winograd = {mode})]", "[Dense(10)]")).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
    }

    // ---------------------------------------------------------------- the loss

    [Theory]
    [InlineData("[Dense(1)]", "[1]")]
    [InlineData("[Conv2D(3, 3)]", "[3×2×2]")]
    public void CNN0007_cross_entropy_on_an_output_that_is_not_a_class_vector(string layers, string output)
    {
        AssertDiagnostic(Layers("1, 4, 4", layers), "CNN0007", "Network(1, 4, 4)",
            $"Network 'Net': Loss.SoftmaxCrossEntropy needs a flat output of at least 2 classes, but the last layer's output is {output}");
    }

    [Fact]
    public void CNN0007_undefined_loss_value()
    {
        // Loss sits on [Network], not on a layer, so CNN0016's "Layer i" message does not fit it; CNN0007 says it.
        AssertDiagnostic(Layers("1, 4, 4, Loss = (Loss)42", "[Dense(10)]"), "CNN0007", "Network(1, 4, 4, Loss = (Loss)42)",
            "Network 'Net': Loss = 42 needs a defined Loss value, but the last layer's output is [10]");
    }

    [Theory]
    [InlineData("[Conv2D(3, 3)]\n[GlobalAvgPool2D]")] // C×1×1 is a class vector, as torch's CrossEntropyLoss takes [N, C, 1, 1]
    [InlineData("[Conv2D(3, 4)]")]                    // a 4×4 kernel on a 4×4 input: 3×1×1
    public void CNN0007_is_not_reported_for_a_one_pixel_spatial_output(string layers)
    {
        var run = GeneratorHarness.Run(Layers("1, 4, 4", layers)).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    // ---------------------------------------------------------------- sizes beyond one array

    [Fact]
    public void CNN0013_dense_weights_beyond_one_array()
    {
        AssertDiagnostic(Layers("1, 1000, 1000", "[Dense(5000)]"), "CNN0013", "Dense(5000)",
            "Network 'Net': layer 0's weight [5000×1000000] exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_convolution_weights_beyond_one_array()
    {
        AssertDiagnostic(Layers("50000, 1, 1", "[Conv2D(50000, 1)]"), "CNN0013", "Conv2D(50000, 1)",
            "Network 'Net': layer 0's weight [50000×50000×1×1] exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_parameter_total_beyond_one_array()
    {
        // Each layer fits (2 000 002 000 and 300 150 000 parameters), their sum does not.
        AssertDiagnostic(Layers("1, 1000, 1000", "[Dense(2000)]", "[Dense(150000)]"), "CNN0013", "Network(1, 1000, 1000)",
            "Network 'Net': the parameter count 2300152000 exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_input_beyond_one_array()
    {
        AssertDiagnostic(Layers("3, 30000, 30000", "[GlobalAvgPool2D]", "[Dense(2)]"), "CNN0013", "Network(3, 30000, 30000)",
            "Network 'Net': the input [3×30000×30000] exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_layer_output_beyond_one_array()
    {
        AssertDiagnostic(Layers("1, 20000, 20000", "[Conv2D(16, 3, Padding = 1)]", "[GlobalAvgPool2D]", "[Dense(2)]"), "CNN0013", "Conv2D(16, 3, Padding = 1)",
            "Network 'Net': layer 0's output [16×20000×20000] exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_padding_so_large_the_output_side_overflows_an_int()
    {
        // (1 + 2·2 000 000 000 - 1) / 1 + 1 rows: the side alone is past int.MaxValue, and must not wrap around.
        AssertDiagnostic(Layers("1, 1, 1", "[Conv2D(1, 1, Padding = 2000000000)]", "[GlobalAvgPool2D]", "[Dense(2)]"), "CNN0013", "Conv2D(1, 1, Padding = 2000000000)",
            "Network 'Net': layer 0's output [1×4000000001×4000000001] exceeds 2147483647 elements, the most one .NET array holds");
    }

    [Fact]
    public void CNN0013_im2col_buffer_beyond_one_array()
    {
        // Input (256 000 000) and output (4 000 000) fit; the 64·11·11 × 2000·2000 column matrix does not.
        AssertDiagnostic(Layers("64, 2000, 2000", "[Conv2D(1, 11, Padding = 5)]", "[GlobalAvgPool2D]", "[Dense(2)]"), "CNN0013", "Conv2D(1, 11, Padding = 5)",
            "Network 'Net': layer 0's im2col buffer [7744×4000000] exceeds 2147483647 elements, the most one .NET array holds");
    }

    // ---------------------------------------------------------------- reporting in general

    [Fact]
    public void A_network_with_an_error_does_not_stop_the_others()
    {
        string source = """
            using CnnGen;

            namespace Cases;

            [Network(1, 4, 4)]
            [Conv2D(6, 5)]
            public partial class Broken { }

            [Network(1, 4, 4)]
            [Dense(3)]
            public partial class Fine { }
            """;
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Equal("CNN0005", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal("Cases.Fine.g.cs", Assert.Single(run.Sources).HintName);
    }

    [Fact]
    public void Messages_do_not_depend_on_the_current_culture()
    {
        string source = Layers("1, 8, 8", "[Conv2D(2, 3)]", "[Dropout(-0.5f)]");
        var diagnostic = TestCultures.With(TestCultures.Swedish, () => Assert.Single(Diagnose(source)));
        string message = TestCultures.With(TestCultures.Swedish, () => diagnostic.GetMessage());
        Assert.Equal("Layer 1 (Dropout): the probability is -0.5, but it must be in [0, 1)", message);
    }

    [Fact]
    public void Every_descriptor_is_an_error_with_a_stable_id_and_is_covered_here()
    {
        var descriptors = typeof(Diagnostics.DiagnosticDescriptors)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        var ids = descriptors.Select(d => d.Id).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"CNN{i:0000}"), ids);
        Assert.All(descriptors, d => Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity));
        Assert.All(descriptors, d => Assert.True(d.IsEnabledByDefault));

        // Every id has a test named after it in this class.
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name.Split('_')[0]).ToHashSet();
        Assert.All(ids, id => Assert.Contains(id, tested));
    }
}
