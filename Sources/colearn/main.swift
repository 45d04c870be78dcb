import CoLearnCLI

await CoLearnCommand.main()
