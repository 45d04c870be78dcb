import CoLearnFuzz

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// The fuzz targets' driver (docs/FUZZING.md). Not part of the product: `scripts/fuzz.sh` builds
// it in a build directory of its own.
//
// Built normally, it runs the deterministic mutation fuzzer:
//
//     colearn-fuzz TARGET [--seconds N] [--iterations N] [--seed N]
//     colearn-fuzz TARGET --write-seeds DIRECTORY     (the seed corpus, one file per input)
//     colearn-fuzz TARGET --replay FILE...            (run saved inputs, e.g. a crash file)
//
// Built with `-sanitize=fuzzer -D COLEARN_LIBFUZZER`, it is a libFuzzer binary: main hands the
// command line to libFuzzer's driver, and COLEARN_FUZZ_TARGET names the target
// (`COLEARN_FUZZ_TARGET=T colearn-fuzz --write-seeds DIRECTORY` writes its seeds).

/// Writes `message` and a newline to standard error.
func printError(_ message: String) {
  var line = message + "\n"
  line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

#if COLEARN_LIBFUZZER
  /// libFuzzer's driver, for a program with its own main (the Swift one, which SwiftPM links).
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
  ) -> CInt

  nonisolated(unsafe) private var libFuzzerTarget = FuzzTarget.sparse

  /// The target COLEARN_FUZZ_TARGET names.
  func libFuzzerTargetFromEnvironment() -> FuzzTarget {
    let name = getenv("COLEARN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
      printError(
        "colearn-fuzz: set COLEARN_FUZZ_TARGET to one of "
          + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
      exit(2)
    }
    return target
  }

  /// Hands the command line to libFuzzer, which calls ``fuzzOneInput(_:_:)`` with each input
  /// (and replays the files it is given instead of directories).
  func runLibFuzzer() -> Never {
    libFuzzerTarget = libFuzzerTargetFromEnvironment()
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
  }

  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
      _ = try libFuzzerTarget.run(input)
    } catch {
      printError("colearn-fuzz: \(error)")
      abort()
    }
    return 0
  }
#endif

@main
struct FuzzMain {
  static func main() {
    #if COLEARN_LIBFUZZER
      let command = CommandLine.arguments
      if command.count == 3, command[1] == "--write-seeds" {
        writeSeeds(libFuzzerTargetFromEnvironment(), to: command[2])
      }
      runLibFuzzer()
    #endif
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
      usage()
    }
    arguments.removeFirst()
    var seconds = 60.0
    var iterations = Int.max
    var seed: UInt64 = 1
    while let option = arguments.first {
      arguments.removeFirst()
      switch option {
      case "--seconds": seconds = number(value(&arguments, option))
      case "--iterations": iterations = number(value(&arguments, option))
      case "--seed": seed = number(value(&arguments, option))
      case "--write-seeds": writeSeeds(target, to: value(&arguments, option))
      case "--replay": replay(target, arguments)
      default: usage()
      }
    }
    var fuzzer = MutationFuzzer(target: target, seed: seed)
    // Each input goes to a file before it runs: after a trap, the file holds its input.
    let crashPath = "crash-\(target.rawValue)-input"
    let crashFile = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if crashFile >= 0 {
      fuzzer.beforeEachInput = { input in
        ftruncate(crashFile, 0)
        _ = input.withUnsafeBytes { pwrite(crashFile, $0.baseAddress, $0.count, 0) }
      }
    }
    let summary = fuzzer.run(iterations: iterations, duration: .milliseconds(Int(seconds * 1000)))
    if crashFile >= 0 {
      close(crashFile)
      unlink(crashPath)
    }
    for failure in summary.failures { print("FINDING " + failure) }
    print(summary)
    exit(summary.failures.isEmpty ? 0 : 1)
  }

  static func number<Number: LosslessStringConvertible>(_ text: String) -> Number {
    guard let number = Number(text) else { usage() }
    return number
  }

  static func value(_ arguments: inout [String], _ option: String) -> String {
    guard !arguments.isEmpty else { usage() }
    return arguments.removeFirst()
  }

  static func writeSeeds(_ target: FuzzTarget, to directory: String) -> Never {
    mkdir(directory, 0o755)
    for (number, seed) in target.seeds().enumerated() {
      let path = directory + "/seed-\(number)"
      guard let file = fopen(path, "wb") else {
        printError("colearn-fuzz: cannot write \(path)")
        exit(1)
      }
      _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
      fclose(file)
    }
    print("wrote \(target.seeds().count) seeds to \(directory)")
    exit(0)
  }

  static func replay(_ target: FuzzTarget, _ paths: [String]) -> Never {
    var failed = false
    for path in paths {
      guard let file = fopen(path, "rb") else {
        printError("colearn-fuzz: cannot read \(path)")
        exit(1)
      }
      var bytes: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += buffer[0..<count]
      }
      fclose(file)
      do {
        print("\(path): \(try target.run(bytes) ? "accepted" : "refused")")
      } catch {
        print("\(path): FINDING \(error)")
        failed = true
      }
    }
    exit(failed ? 1 : 0)
  }

  static func usage() -> Never {
    printError(
      "usage: colearn-fuzz TARGET [--seconds N] [--iterations N] [--seed N]\n"
        + "       colearn-fuzz TARGET --write-seeds DIRECTORY | --replay FILE...\n"
        + "targets: " + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
    exit(2)
  }
}
