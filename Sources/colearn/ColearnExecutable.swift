import CoLearnCLI

@main
struct ColearnExecutable {
  static func main() async {
    await runCoLearn()
  }
}
