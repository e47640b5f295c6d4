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
        int code = commandLine().execute(args);
        System.exit(code);
    }

    /** The command line with its error handling: a mistake is one line, never a stack trace. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new NuriCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof java.io.IOException
                    || e instanceof ai.nuri.model.ModelLoadException) {
                cmd.getErr().println("nuri " + cmd.getCommandName() + ": " + e.getMessage() + " (see: nuri "
                        + cmd.getCommandName() + " --help)");
                return 2;
            }
            throw e;
        });
        return cli;
    }
}
