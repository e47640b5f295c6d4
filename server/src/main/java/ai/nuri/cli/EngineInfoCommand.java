package ai.nuri.cli;

import ai.djl.engine.Engine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * Loads the native libraries and says what it found: the quickest check that libtorch and the GPU
 * are usable in a container, and how images put every native library into their DJL cache at
 * build time (the tokenizers library first, so it is unpacked even where libtorch cannot load, as
 * on a build machine without a GPU driver), so that the running container writes nothing.
 */
@Command(name = "engine-info", mixinStandardHelpOptions = true,
        description = "Load the tokenizers library and the PyTorch engine (unpacking both into the DJL cache) and print"
                + " the engine's version and devices.")
final class EngineInfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
        System.out.println("tokenizers=loaded");
        Engine engine = Engine.getEngine("PyTorch");
        System.out.printf("engine=%s version=%s default_device=%s gpus=%d%n", engine.getEngineName(),
                engine.getVersion(), engine.defaultDevice(), engine.getGpuCount());
        System.out.println("cpu_kernel=" + (ai.nuri.model.Linears.vectorKernelAvailable() ? "available"
                : "off (start java with --add-modules jdk.incubator.vector; ./nuri and the images do)"));
        return 0;
    }
}
