package ai.nuri.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of nuri-server.jar. */
@Command(name = "nuri", mixinStandardHelpOptions = true, version = "nuri 0.1.0",
        description = "Serve Korean-language foundation models on the JVM.",
        subcommands = {ServeCommand.class, GenerateCommand.class, EngineInfoCommand.class, TrainCommand.class, TrainVisionCommand.class, MakeBenchModelCommand.class,
                CommandLine.HelpCommand.class})
public final class NuriCli {
    public static void main(String[] args) {
        Runtime.offline(); // -Doffline=false on the command line lets an image build fetch libtorch
        int code = new CommandLine(new NuriCli()).execute(args);
        System.exit(code);
    }
}
