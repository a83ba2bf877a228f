// MSBuild task (compiled by RoslynCodeTaskFactory, see Directory.Build.targets) that marks one ELF symbol-version
// requirement of a shared library as weak, so the dynamic loader tolerates its absence.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so was linked with GCC 13 and lists GLIBCXX_3.4.32 among the versions
// it needs from libstdc++.so.6. Debian 12 and Ubuntu 22.04 ship GCC 12's runtime (up to GLIBCXX_3.4.30), so the
// loader refuses the library and TorchSharp reports a misleading "missing libtorch" error. The only symbol behind
// that version is std::ios_base_library_init(), which GCC 13's <iostream> references but never calls. Setting
// VER_FLG_WEAK (0x2) on that one Vernaux entry of .gnu.version_r turns the hard failure into a tolerated miss.
// The file is rewritten through a temporary copy, so a hard-linked NuGet cache file is never modified.
// RoslynCodeTaskFactory compiles this for netstandard2.0, hence the plain APIs.
#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required] public string LibraryPath { get; set; } = "";
    [Required] public string VersionName { get; set; } = "";
    /// <summary>Semicolon-separated candidate paths of the system C++ runtime; if any provides the version, nothing changes.</summary>
    public string SystemLibraries { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath)) return true;
        foreach (string candidate in SystemLibraries.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(candidate) && ContainsAscii(File.ReadAllBytes(candidate), VersionName + "\0"))
            {
                Log.LogMessage(MessageImportance.Low, $"{candidate} provides {VersionName}; {LibraryPath} left as it is.");
                return true;
            }
        }

        byte[] elf = File.ReadAllBytes(LibraryPath);
        string? problem = Patch(elf, VersionName, out bool changed);
        if (problem != null)
        {
            Log.LogWarning($"Could not weaken {VersionName} in {LibraryPath}: {problem}");
            return true;
        }
        if (!changed) return true;

        string temporary = LibraryPath + ".weakening";
        File.WriteAllBytes(temporary, elf);
        File.Delete(LibraryPath);
        File.Move(temporary, LibraryPath);
        Log.LogMessage(MessageImportance.High,
            $"Marked {VersionName} as a weak requirement of {Path.GetFileName(LibraryPath)} (system libstdc++ lacks it).");
        return true;
    }

    /// <summary>Sets VER_FLG_WEAK on the Vernaux entry named <paramref name="version"/>; returns an error or null.</summary>
    private static string? Patch(byte[] elf, string version, out bool changed)
    {
        changed = false;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            return "not an ELF file";
        if (elf[4] != 2 || elf[5] != 1) return "only 64-bit little-endian ELF is handled";

        ulong sectionTable = BitConverter.ToUInt64(elf, 0x28);
        int sectionEntrySize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (int section = 0; section < sectionCount; section++)
        {
            int header = checked((int)sectionTable + section * sectionEntrySize);
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;

            int verneedOffset = checked((int)BitConverter.ToUInt64(elf, header + 0x18));
            int stringSection = (int)BitConverter.ToUInt32(elf, header + 0x28);
            int needCount = (int)BitConverter.ToUInt32(elf, header + 0x2C);
            int stringHeader = checked((int)sectionTable + stringSection * sectionEntrySize);
            int strings = checked((int)BitConverter.ToUInt64(elf, stringHeader + 0x18));

            // Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
            // Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
            int need = verneedOffset;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, aux + 4);
                            changed = true;
                        }
                        return null;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
            return null;
        }
        return "no .gnu.version_r section";
    }

    private static string ReadCString(byte[] bytes, int start)
    {
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        // The task is compiled for netstandard2.0 (no span search), so a plain scan.
        byte[] pattern = Encoding.ASCII.GetBytes(needle);
        for (int start = 0; start <= haystack.Length - pattern.Length; start++)
        {
            int matched = 0;
            while (matched < pattern.Length && haystack[start + matched] == pattern[matched]) matched++;
            if (matched == pattern.Length) return true;
        }
        return false;
    }
}
