#!/usr/bin/env python3
"""What a network adds to a user's build: the generated source's size and the extra `dotnet build` time.

Usage: python3 benchmarks/build-cost/measure.py [--runs N] [NETWORK ...]

Creates scratch console projects in a temporary folder, each referencing the runtime and the generator as a user's
project does (examples/Mnist's way): one without a network, one per network, the network's declaration taken from
benchmarks/CnnGen.Benchmarks/Networks/BenchmarkNetworks.cs (LeNet5 and ResNet20Sized unless named). Each project is
restored and built once, then rebuilt `--no-incremental` N times without its references (the runtime and the
generator are built already), the projects taking turns so that a busy
moment of the shared machine falls on all of them. The added build time is a network's median minus the empty
project's. Prints one Markdown row per network.
"""
import argparse
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
NETWORKS_FILE = REPO / "benchmarks/CnnGen.Benchmarks/Networks/BenchmarkNetworks.cs"

PROJECT = """<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
    <CompilerGeneratedFilesOutputPath>obj/generated</CompilerGeneratedFilesOutputPath>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="{repo}/src/CnnGen/CnnGen.csproj" />
    <ProjectReference Include="{repo}/generator/CnnGen.Generator/CnnGen.Generator.csproj"
                      OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
"""


def declaration(name: str) -> str:
    """The attribute lines and the class line of one network in BenchmarkNetworks.cs."""
    lines = NETWORKS_FILE.read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if re.fullmatch(rf"public partial class {name} \{{ \}}", line.strip()))
    start = end
    while start > 0 and lines[start - 1].startswith("["):
        start -= 1
    return "\n".join(lines[start:end + 1])


def run(args, cwd) -> float:
    began = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("networks", nargs="*", default=["LeNet5", "ResNet20Sized"])
    options = parser.parse_args()

    run(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo", str(REPO / "src/CnnGen/CnnGen.csproj")], REPO)
    with tempfile.TemporaryDirectory(prefix="cnngen-build-cost-") as scratch:
        projects = {}
        for name in ["(none)"] + options.networks:
            folder = pathlib.Path(scratch) / ("Empty" if name == "(none)" else name)
            folder.mkdir()
            (folder / "Scratch.csproj").write_text(PROJECT.format(repo=REPO))
            body = "" if name == "(none)" else declaration(name)
            (folder / "Program.cs").write_text(f"using CnnGen;\n\n{body}\n\npublic static class Program {{ public static void Main() {{ }} }}\n")
            run(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo"], folder)  # restore, and a warm compiler server
            projects[name] = folder

        times = {name: [] for name in projects}
        for _ in range(options.runs):
            for name, folder in projects.items():
                times[name].append(run(["dotnet", "build", "-c", "Release", "--no-restore", "--no-incremental",
                                        "-p:BuildProjectReferences=false", "-v", "q", "-nologo"], folder))

        empty = statistics.median(times["(none)"])
        print(f"empty project: median {empty:.1f} s ({', '.join(f'{t:.1f}' for t in times['(none)'])})")
        print("| network | generated source | added build time (median; runs) |")
        print("| --- | ---: | ---: |")
        for name in options.networks:
            sources = list((projects[name] / "obj/generated").rglob(f"*{name}.g.cs"))
            size = sum(p.stat().st_size for p in sources)
            lines = sum(len(p.read_text().splitlines()) for p in sources)
            added = [t - empty for t in times[name]]
            print(f"| {name} | {size / 1000:.0f} KB, {lines:,} lines | {statistics.median(added):.1f} s "
                  f"({', '.join(f'{t:.1f}' for t in added)}) |")


if __name__ == "__main__":
    main()
