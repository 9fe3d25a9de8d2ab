using System.Buffers.Binary;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// How a 64-bit little-endian ELF executable is linked, read from its program headers: the
/// interpreter it asks the kernel for (PT_INTERP: what `file` calls "dynamically linked") and the
/// shared libraries its dynamic section names (DT_NEEDED). A static-pie has a dynamic section for
/// its own relocations, but neither of these.
/// </summary>
internal sealed record ElfLinking(string? Interpreter, int NeededLibraries)
{
    private const uint PtDynamic = 2;
    private const uint PtInterp = 3;
    private const long DtNeeded = 1;

    public bool IsStatic => Interpreter is null && NeededLibraries == 0;

    public static ElfLinking Read(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file");
        }

        var headers = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x20));
        var size = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x36));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x38));
        string? interpreter = null;
        var needed = 0;
        for (var i = 0; i < count; i++)
        {
            var header = elf.AsSpan(headers + (i * size), size);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(header);
            var offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            if (type == PtInterp)
            {
                interpreter = System.Text.Encoding.ASCII.GetString(elf, offset, length).TrimEnd('\0');
            }
            else if (type == PtDynamic)
            {
                for (var entry = offset; entry + 16 <= offset + length; entry += 16)
                {
                    needed += BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan(entry)) == DtNeeded ? 1 : 0;
                }
            }
        }

        return new ElfLinking(interpreter, needed);
    }
}
