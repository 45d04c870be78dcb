import CoLearnCLI

CoLearnCommand.main()
