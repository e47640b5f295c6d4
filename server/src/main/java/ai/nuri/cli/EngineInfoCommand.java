package ai.nuri.cli;

import ai.djl.engine.Engine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * Loads the PyTorch engine and says what it found: the quickest check that libtorch and the GPU
 * are usable in a container, and how images get libtorch into their DJL cache at build time.
 */
@Command(name = "engine-info", mixinStandardHelpOptions = true,
        description = "Load the PyTorch engine and print its version and devices.")
final class EngineInfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Engine engine = Engine.getEngine("PyTorch");
        System.out.printf("engine=%s version=%s default_device=%s gpus=%d%n", engine.getEngineName(),
                engine.getVersion(), engine.defaultDevice(), engine.getGpuCount());
        return 0;
    }
}
