using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>Writes hand-made (often deliberately broken) safetensors files byte by byte.</summary>
internal static class RawSafeTensors
{
    /// <summary>Writes the length prefix, <paramref name="header"/> (space-padded to a multiple of 8) and <paramref name="data"/>.</summary>
    public static string Write(string path, string header, int dataLength) => Write(path, Encoding.UTF8.GetBytes(header), new byte[dataLength]);

    public static string Write(string path, byte[] header, byte[] data, ulong? headerLength = null)
    {
        int padded = (header.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The header of an existing file as text (padding included) and the offset where its data starts.</summary>
    public static (string Header, int DataStart) ReadHeader(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return (Encoding.UTF8.GetString(bytes, 8, length), 8 + length);
    }
}
