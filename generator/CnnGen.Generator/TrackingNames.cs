namespace CnnGen.Generator;

/// <summary>Names of the incremental pipeline's steps, asserted by the caching tests.</summary>
internal static class TrackingNames
{
    public const string Declarations = nameof(Declarations);
    public const string Analysis = nameof(Analysis);
    public const string Models = nameof(Models);
    public const string Diagnostics = nameof(Diagnostics);
    public const string OrphanLayers = nameof(OrphanLayers);
}
