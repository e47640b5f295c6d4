package ai.nuri.cli;

import ai.djl.ndarray.types.DataType;
import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.http.ImageInputs;
import ai.nuri.http.ModelRegistry;
import ai.nuri.http.NuriServer;
import ai.nuri.http.ServedModel;
import ai.nuri.http.ServerConfig;
import ai.nuri.metrics.ModelMetrics;
import ai.nuri.metrics.NuriMetrics;
import ai.nuri.model.LanguageModel;
import ai.nuri.media.ImageSource;
import ai.nuri.text.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Serves the models of a model store over the OpenAI-compatible API. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve models over an OpenAI-compatible HTTP API. Every flag has an environment twin.")
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "${env:NURI_HOST:-127.0.0.1}", description = "Bind address; NURI_HOST (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "${env:NURI_PORT:-8000}", description = "Port; NURI_PORT (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--model-store", defaultValue = "${env:NURI_MODEL_STORE:-model-store}",
            description = "Folder of model folders; NURI_MODEL_STORE (default: ${DEFAULT-VALUE}).")
    Path modelStore;

    @Option(names = "--model", description = "Serve this one model folder, anywhere (instead of --model-store and --models); NURI_MODEL.",
            defaultValue = "${env:NURI_MODEL}")
    Path modelFolder;

    @Option(names = "--models", split = ",", defaultValue = "${env:NURI_MODELS:-}",
            description = "Model folders to serve, comma-separated; NURI_MODELS (default: every folder with a config.json).")
    List<String> modelNames = new ArrayList<>();

    @Option(names = "--device", defaultValue = "${env:NURI_DEVICE:-cpu}", description = "cpu or cuda:N; NURI_DEVICE (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--dtype", defaultValue = "${env:NURI_DTYPE:-float32}", description = "float32 or float16; NURI_DTYPE (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--cpu-kernel-rows", defaultValue = "${env:NURI_CPU_KERNEL_ROWS:-auto}",
            description = "On the CPU, steps of up to this many rows multiply with Nuri's Vector API kernel, larger ones with"
                    + " libtorch; auto measures it per model at load, 0 turns the kernel off; NURI_CPU_KERNEL_ROWS"
                    + " (default: ${DEFAULT-VALUE}).")
    String cpuKernelRows;

    @Option(names = "--max-num-seqs", defaultValue = "${env:NURI_MAX_NUM_SEQS:-64}",
            description = "Most sequences in one step; NURI_MAX_NUM_SEQS (default: ${DEFAULT-VALUE}).")
    int maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", defaultValue = "${env:NURI_MAX_NUM_BATCHED_TOKENS:-512}",
            description = "Most tokens (prefill chunks and decodes) in one step; NURI_MAX_NUM_BATCHED_TOKENS (default: ${DEFAULT-VALUE}).")
    int maxNumBatchedTokens;

    @Option(names = "--kv-cache-memory-mb", defaultValue = "${env:NURI_KV_CACHE_MEMORY_MB:-1024}",
            description = "KV cache budget per model in MiB; NURI_KV_CACHE_MEMORY_MB (default: ${DEFAULT-VALUE}). "
                    + "Never less than one full-length sequence, never more than max-num-seqs of them.")
    long kvCacheMemoryMb;

    @Option(names = "--state-cache-memory-mb", defaultValue = "${env:NURI_STATE_CACHE_MEMORY_MB:-512}",
            description = "Recurrent-state budget per hybrid (Mamba) model in MiB: each running sequence holds a fixed-size state "
                    + "whatever its length; at most max-num-seqs of them; NURI_STATE_CACHE_MEMORY_MB (default: ${DEFAULT-VALUE}).")
    long stateCacheMemoryMb;

    @Option(names = "--prefix-caching", negatable = true, defaultValue = "${env:NURI_PREFIX_CACHING:-true}", fallbackValue = "true",
            description = "Share the KV blocks of identical prompt prefixes between requests (--no-prefix-caching turns it off); NURI_PREFIX_CACHING (default: ${DEFAULT-VALUE}).")
    boolean prefixCaching;

    @Option(names = "--block-size", defaultValue = "${env:NURI_BLOCK_SIZE:-16}", description = "Tokens per KV block; NURI_BLOCK_SIZE (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--max-waiting", defaultValue = "${env:NURI_MAX_WAITING:-256}",
            description = "Waiting requests per model before 503; NURI_MAX_WAITING (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Option(names = "--max-model-len", defaultValue = "${env:NURI_MAX_MODEL_LEN:-0}",
            description = "Longest prompt plus output; NURI_MAX_MODEL_LEN (default: the model's max_position_embeddings).")
    int maxModelLen;

    @Option(names = "--api-keys-file", defaultValue = "${env:NURI_API_KEYS_FILE:-}",
            description = "File with one API key per line; /v1 then needs 'Authorization: Bearer KEY'; NURI_API_KEYS_FILE (default: open).")
    String apiKeysFile;

    @Option(names = "--max-body-bytes", defaultValue = "${env:NURI_MAX_BODY_BYTES:-1048576}",
            description = "Largest request body, else 413; NURI_MAX_BODY_BYTES (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(names = "--rate-limit-rpm", defaultValue = "${env:NURI_RATE_LIMIT_RPM:-0}",
            description = "Requests per minute per API key (per address without keys), else 429; 0 is off; NURI_RATE_LIMIT_RPM (default: ${DEFAULT-VALUE}).")
    int rateLimitRpm;

    @Option(names = "--cors-origins", split = ",", defaultValue = "${env:NURI_CORS_ORIGINS:-}",
            description = "Origins allowed to call from browsers, comma-separated; NURI_CORS_ORIGINS (default: none).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--tls-cert-file", defaultValue = "${env:NURI_TLS_CERT_FILE:-}",
            description = "PEM certificate (chain) for HTTPS on the API port, with --tls-key-file; NURI_TLS_CERT_FILE.")
    String tlsCertFile;

    @Option(names = "--tls-key-file", defaultValue = "${env:NURI_TLS_KEY_FILE:-}",
            description = "PEM private key (PKCS#8 or PKCS#1) for --tls-cert-file; NURI_TLS_KEY_FILE.")
    String tlsKeyFile;

    @Option(names = "--log-prompts", defaultValue = "${env:NURI_LOG_PROMPTS:-false}",
            description = "Write prompt and completion text into the access log (off: ids, tokens and timings only); NURI_LOG_PROMPTS.")
    boolean logPrompts;

    @Option(names = "--idle-timeout", defaultValue = "${env:NURI_IDLE_TIMEOUT:-60}",
            description = "Seconds a client may take to send a request head or body, a keep-alive connection may idle, "
                    + "and a streaming client may stop reading before it is dropped; NURI_IDLE_TIMEOUT (default: ${DEFAULT-VALUE}).")
    double idleTimeoutSeconds;

    @Option(names = "--drain-timeout", defaultValue = "${env:NURI_DRAIN_TIMEOUT:-30}",
            description = "Seconds in-flight requests get to finish after SIGTERM; NURI_DRAIN_TIMEOUT (default: ${DEFAULT-VALUE}).")
    int drainTimeoutSeconds;

    @Option(names = "--management-port", defaultValue = "${env:NURI_MANAGEMENT_PORT:--1}",
            description = "Serve /health, /ready and /metrics on this port instead of the main one; -1 keeps them there; NURI_MANAGEMENT_PORT (default: ${DEFAULT-VALUE}).")
    int managementPort;

    @Option(names = "--max-images-per-request", defaultValue = "${env:NURI_MAX_IMAGES_PER_REQUEST:-4}",
            description = "Most images in one chat request, else 400; NURI_MAX_IMAGES_PER_REQUEST (default: ${DEFAULT-VALUE}).")
    int maxImagesPerRequest;

    @Option(names = "--max-image-pixels", defaultValue = "${env:NURI_MAX_IMAGE_PIXELS:-16777216}",
            description = "Largest image, width x height, read from its header before decoding, else 400; NURI_MAX_IMAGE_PIXELS (default: ${DEFAULT-VALUE}).")
    long maxImagePixels;

    @Option(names = "--allowed-media-domains", split = ",", defaultValue = "${env:NURI_ALLOWED_MEDIA_DOMAINS:-}",
            description = "Hosts (and their subdomains) whose http(s) image URLs are fetched, comma-separated; others and file: are refused; NURI_ALLOWED_MEDIA_DOMAINS (default: none, data: URLs only).")
    List<String> allowedMediaDomains = new ArrayList<>();

    @Option(names = "--response-store-size", defaultValue = "${env:NURI_RESPONSE_STORE_SIZE:-1000}",
            description = "Responses API: how many stored responses are kept for previous_response_id and GET (oldest dropped first); "
                    + "NURI_RESPONSE_STORE_SIZE (default: ${DEFAULT-VALUE}).")
    int responseStoreSize;

    @Option(names = "--response-store-ttl", defaultValue = "${env:NURI_RESPONSE_STORE_TTL:-3600}",
            description = "Responses API: seconds a stored response is kept; NURI_RESPONSE_STORE_TTL (default: ${DEFAULT-VALUE}).")
    long responseStoreTtlSeconds;

    @Option(names = "--request-timeout", defaultValue = "${env:NURI_REQUEST_TIMEOUT:-0}",
            description = "Seconds a generation may take before it is cancelled with 504; 0 is no limit; NURI_REQUEST_TIMEOUT (default: ${DEFAULT-VALUE}).")
    double requestTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        if (!cpuKernelRows.equals("auto")) {
            if (!cpuKernelRows.matches("\\d{1,4}")) {
                throw new IllegalArgumentException("--cpu-kernel-rows: auto or a number of rows, not '" + cpuKernelRows + "'");
            }
            System.setProperty(LanguageModel.CPU_KERNEL_ROWS_PROPERTY, cpuKernelRows);
        }
        NuriMetrics metrics = new NuriMetrics();
        List<ServedModel> served = new ArrayList<>();
        for (Path folder : modelFolders()) {
            served.add(load(folder, metrics));
        }
        if (served.isEmpty()) {
            throw new IllegalArgumentException("no model to serve in " + modelStore);
        }
        ServerConfig config = new ServerConfig(host, port, apiKeys(), maxBodyBytes, rateLimitRpm,
                corsOrigins.stream().filter(s -> !s.isBlank()).toList(), Duration.ofSeconds(drainTimeoutSeconds),
                Duration.ofMillis((long) (requestTimeoutSeconds * 1000)), managementPort, responseStoreSize,
                Duration.ofSeconds(responseStoreTtlSeconds))
                .withAccess(blankToNull(apiKeysFile), blankToNull(tlsCertFile), blankToNull(tlsKeyFile), logPrompts)
                .withIdleTimeout(Duration.ofMillis((long) (idleTimeoutSeconds * 1000)));
        NuriServer server = new NuriServer(config, new ModelRegistry(served), metrics);
        int bound = server.start().await();
        System.out.printf("Nuri serving %s on %s://%s:%d%n", served.stream().map(ServedModel::id).toList(), config.tls() ? "https" : "http", host, bound);
        if (server.managementPort() >= 0) {
            System.out.printf("Management endpoints (/health, /ready, /metrics) on http://%s:%d%n", host, server.managementPort());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable shutdown = () -> {
            server.drain();
            stopped.countDown();
        };
        // SIGTERM and SIGINT drain, then exit 0 (a plain JVM shutdown hook would exit 143); a second one
        // while draining exits at once, as an impatient operator at a terminal expects.
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        for (String signal : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> {
                if (stopping.compareAndSet(false, true)) {
                    System.out.println("Draining: requests in flight get up to " + drainTimeoutSeconds
                            + " s (a second Ctrl-C exits at once)");
                    new Thread(shutdown, "nuri-drain").start();
                } else {
                    System.out.println("Exiting now");
                    java.lang.Runtime.getRuntime().halt(130);
                }
            });
        }
        stopped.await();
        server.close();
        served.forEach(m -> m.engine().close());
        return 0;
    }

    private List<Path> modelFolders() throws IOException {
        if (modelFolder != null) { // --model PATH: one folder, anywhere
            if (!Files.isRegularFile(modelFolder.resolve("config.json"))) {
                throw new IllegalArgumentException("--model " + modelFolder + ": not a model folder (no config.json there)");
            }
            return List.of(modelFolder);
        }
        if (!Files.isDirectory(modelStore)) {
            throw new IllegalArgumentException("--model-store " + modelStore.toAbsolutePath() + " is not a folder (run from the "
                    + "repository root, or pass --model-store or --model PATH)");
        }
        List<String> names = modelNames.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (!names.isEmpty()) {
            List<Path> folders = new java.util.ArrayList<>();
            for (String name : names) {
                Path folder = modelStore.resolve(name);
                if (!Files.isRegularFile(folder.resolve("config.json"))) {
                    throw new IllegalArgumentException("--models: no model '" + name + "' in " + modelStore.toAbsolutePath());
                }
                folders.add(folder);
            }
            return folders;
        }
        try (Stream<Path> list = Files.list(modelStore)) {
            return list.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList();
        }
    }

    private ServedModel load(Path folder, NuriMetrics metrics) throws IOException {
        DataType type = Runtime.dtype(dtype);
        LanguageModel model = LanguageModel.load(folder, Runtime.device(device), type);
        Tokenizer tokenizer = Tokenizer.load(folder);
        var c = model.config();
        int contextLength = maxModelLen > 0 ? Math.min(maxModelLen, c.maxPositionEmbeddings()) : c.maxPositionEmbeddings();
        int blocksPerSequence = (contextLength + blockSize - 1) / blockSize;
        long bytesPerBlock = model.kvBytesPerToken() * blockSize;
        long affordable = bytesPerBlock == 0 ? Long.MAX_VALUE : kvCacheMemoryMb * 1024 * 1024 / bytesPerBlock;
        int blocks = (int) Math.max(blocksPerSequence, Math.min((long) maxNumSeqs * blocksPerSequence, affordable));
        int stateSlots = maxNumSeqs;
        if (model.hasRecurrentState()) {
            long perSequence = model.stateBytesPerSequence();
            stateSlots = (int) Math.min(maxNumSeqs, stateCacheMemoryMb * 1024 * 1024 / perSequence);
            if (stateSlots < 1) {
                throw new IllegalArgumentException("--state-cache-memory-mb " + stateCacheMemoryMb + " is too small for "
                        + model.id() + ": one sequence's recurrent state takes " + (perSequence + (1 << 20) - 1 >> 20) + " MiB");
            }
        }
        EngineConfig engineConfig = new EngineConfig(maxNumSeqs, maxNumBatchedTokens, blocks, blockSize, maxWaiting,
                contextLength, prefixCaching, stateSlots);
        Engine[] engine = new Engine[1];
        ModelMetrics modelMetrics = metrics.forModel(model.id(), () -> engine[0] == null ? 0 : engine[0].runningCount(),
                () -> engine[0] == null ? 0 : engine[0].waitingCount(), () -> engine[0] == null ? 0 : engine[0].kvCacheUsage(),
                () -> engine[0] == null ? 0 : engine[0].stateUsage());
        engine[0] = new Engine(model, tokenizer, engineConfig, modelMetrics);
        modelMetrics.watchLiveArrays(model::liveArrayCount);
        System.out.printf("%s: %s, %,d parameters, %s on %s, context %d, KV cache %d blocks of %d (%d MiB)%n", model.id(),
                c.architecture(), model.decoder().parameterCount(), dtype, device, contextLength, blocks, blockSize,
                blocks * bytesPerBlock >> 20);
        metrics.describeModel(model.id(), java.util.Map.of("architecture", c.architecture(), "dtype", dtype,
                "device", device, "max_model_len", String.valueOf(contextLength), "max_num_seqs", String.valueOf(maxNumSeqs),
                "kv_cache_blocks", String.valueOf(blocks), "block_size", String.valueOf(blockSize),
                "prefix_caching", String.valueOf(prefixCaching && !model.hasRecurrentState())));
        if (model.hasRecurrentState()) {
            System.out.printf("%s: hybrid %s; recurrent state %d slots of %.1f MiB; prefix caching off (state is not"
                    + " snapshotted at block boundaries)%n", model.id(), c.hybrid().pattern(), stateSlots,
                    model.stateBytesPerSequence() / 1048576.0);
        }
        ImageInputs images = null;
        if (model.acceptsImages()) {
            // Remote images: at most 20 MiB, 10 s, no redirects.
            images = ImageInputs.of(folder, new ImageSource(allowedMediaDomains, 20L << 20, Duration.ofSeconds(10)),
                    maxImagePixels, maxImagesPerRequest);
            System.out.printf("%s: takes images (%d tokens each; up to %d per request, %,d pixels each)%n", model.id(),
                    model.imageTokensPerImage(), maxImagesPerRequest, maxImagePixels);
        }
        return new ServedModel(model.id(), engine[0], modelMetrics, System.currentTimeMillis() / 1000, images,
                ai.nuri.model.ModelCard.summary(folder));
    }

    private static Path blankToNull(String path) {
        return path == null || path.isBlank() ? null : Path.of(path);
    }

    private List<String> apiKeys() throws IOException {
        if (apiKeysFile == null || apiKeysFile.isBlank()) {
            return List.of();
        }
        return ai.nuri.http.ApiKeys.parse(Files.readString(Path.of(apiKeysFile), StandardCharsets.UTF_8));
    }
}
