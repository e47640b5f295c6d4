package ai.nuri.loadtest.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar loadtest/target/nuri-loadtest.jar}: measures any OpenAI-compatible server
 * (Nuri, vLLM, TGI, llama.cpp) with the figures and names of vLLM's {@code bench serve}.
 */
@Command(name = "nuri-loadtest", mixinStandardHelpOptions = true, version = "nuri-loadtest 0.1.0",
        description = "Load generator for OpenAI-compatible servers: run, sweep (with an HTML report), compare.",
        subcommands = {LoadTool.Run.class, LoadTool.Sweep.class, LoadTool.Compare.class, LoadTool.SoakCommand.class,
                CommandLine.HelpCommand.class})
public final class LoadTool {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new LoadTool());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("nuri-loadtest: " + e.getMessage());
            return 2;
        });
        System.exit(cli.execute(args));
    }

    /** The options every run shares. */
    static final class RunOptions {
        @Option(names = "--base-url", defaultValue = "http://127.0.0.1:8000/v1", description = "The server's API root (default: ${DEFAULT-VALUE}).")
        String baseUrl;

        @Option(names = "--endpoint", defaultValue = "chat", description = "chat or completions (default: ${DEFAULT-VALUE}).")
        String endpoint;

        @Option(names = "--model", description = "Model id (default: the first of GET /models).")
        String model;

        @Option(names = "--api-key", defaultValue = "${env:OPENAI_API_KEY}", description = "Bearer key (default: OPENAI_API_KEY, else none).")
        String apiKey;

        @Option(names = "--dataset", defaultValue = Dataset.BUNDLED,
                description = "ko-public-service (bundled Korean prompts), random, or a ShareGPT JSON file (default: ${DEFAULT-VALUE}).")
        String dataset;

        @Option(names = "--input-len", description = "random: prompt length (token ids for completions, Hangul syllables for chat; default 128).")
        Integer inputLen;

        @Option(names = "--output-len", description = "max_tokens for every request (default: each prompt's own; 128 for random).")
        Integer outputLen;

        @Option(names = "--num-prompts", defaultValue = "100", description = "Requests measured (default: ${DEFAULT-VALUE}).")
        int numPrompts;

        @Option(names = "--request-rate", defaultValue = "inf", description = "Requests per second, or inf to send all at once (default: ${DEFAULT-VALUE}).")
        String requestRate;

        @Option(names = "--burstiness", defaultValue = "1.0",
                description = "Gamma shape of the arrival gaps: 1 is Poisson, below 1 burstier, above 1 steadier (default: ${DEFAULT-VALUE}).")
        double burstiness;

        @Option(names = "--max-concurrency", defaultValue = "0", description = "Most requests in flight; 0 is no limit (default: ${DEFAULT-VALUE}).")
        int maxConcurrency;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of the prompt order and the arrivals (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--ignore-eos", description = "Ask the server to generate max_tokens whatever the model says (vLLM's ignore_eos).")
        boolean ignoreEos;

        @Option(names = "--image-ratio", defaultValue = "0", description = "Share of chat requests that carry a bundled picture, for vision models (default: ${DEFAULT-VALUE}).")
        double imageRatio;

        @Option(names = "--goodput", split = "\\s+", arity = "1..*",
                description = "SLOs in milliseconds, e.g. --goodput ttft:500 tpot:50 e2el:3000: goodput counts the requests meeting all.")
        List<String> goodput = new ArrayList<>();

        @Option(names = "--warmup", defaultValue = "0", description = "Requests sent first and left out of every figure (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--timeout", defaultValue = "600", description = "Seconds one request may take before it counts as failed (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Option(names = "--quiet", description = "No progress bar (also when CI is set or output is not a terminal).")
        boolean quiet;

        double rate() {
            return requestRate.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(requestRate);
        }

        StreamClient client() throws Exception {
            if (!endpoint.equals("chat") && !endpoint.equals("completions")) {
                throw new IllegalArgumentException("--endpoint must be chat or completions, not '" + endpoint + "'");
            }
            if (timeoutSeconds < 1) {
                throw new IllegalArgumentException("--timeout must be at least 1 second");
            }
            if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
                throw new IllegalArgumentException("--base-url must start with http:// or https://, like http://127.0.0.1:8000/v1");
            }
            if (apiKey != null && apiKey.chars().anyMatch(c -> c < 0x20)) {
                throw new IllegalArgumentException("--api-key holds a control character");
            }
            String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
            String m = model != null ? model : firstModel(base);
            return new StreamClient(new StreamClient.Target(URI.create(base), endpoint, m, apiKey, ignoreEos,
                    Duration.ofSeconds(timeoutSeconds)));
        }

        String firstModel(String base) throws Exception {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/models")).timeout(Duration.ofSeconds(10));
            if (apiKey != null) {
                r.header("Authorization", "Bearer " + apiKey);
            }
            HttpResponse<String> resp = HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode data = JSON.readTree(resp.body()).path("data");
            if (resp.statusCode() != 200 || data.isEmpty()) {
                throw new IllegalStateException("GET " + base + "/models answered " + resp.statusCode() + "; pass --model");
            }
            return data.get(0).path("id").asText();
        }

        /** The measured prompts, after {@code warmup} others used only to warm the server up. */
        Runner.Plan plan(double rate, int concurrency) throws Exception {
            if (warmup < 0 || numPrompts < 1) {
                throw new IllegalArgumentException("--num-prompts must be at least 1 and --warmup at least 0");
            }
            List<Dataset.Prompt> all = Dataset.load(dataset, warmup + numPrompts, seed, inputLen, outputLen,
                    endpoint.equals("completions"));
            return new Runner.Plan(all.subList(warmup, all.size()), rate, burstiness, concurrency, seed, imageRatio,
                    all.subList(0, warmup), Slo.parse(goodput));
        }

        boolean showProgress() {
            return !quiet && System.getenv("CI") == null && System.console() != null;
        }
    }

    /** One run, its progress on the terminal, Ctrl-C printing what was measured so far. */
    static Map<String, Object> measure(RunOptions o, StreamClient client, Runner.Plan plan, String label) throws Exception {
        Runner runner = new Runner(client, plan);
        Thread onCtrlC = new Thread(() -> {
            System.out.println();
            System.out.println("interrupted: figures of the requests finished so far");
            Report.printTable(System.out, List.of(label), List.of(runner.summary()));
        });
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            if (!o.showProgress()) {
                return runner.run(x -> { });
            }
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(plan.prompts().size()).build()) {
                return runner.run(x -> bar.step());
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(onCtrlC);
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "One measured run; prints the figures, optionally writes them as JSON.")
    static final class Run implements Callable<Integer> {
        @Mixin
        RunOptions options = new RunOptions();

        @Option(names = "--result-json", description = "Write the figures (vLLM's field names) and each request's times to this file.")
        Path resultJson;

        @Override
        public Integer call() throws Exception {
            StreamClient client = options.client();
            Map<String, Object> result = measure(options, client, options.plan(options.rate(), options.maxConcurrency), "run");
            Report.printTable(System.out, List.of("run"), List.of(result));
            if (resultJson != null) {
                JSON.writeValue(resultJson.toFile(), result);
            }
            return 0;
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "One run per concurrency or request rate, then report.html (offline, charts embedded) and a JSON per point.")
    static final class Sweep implements Callable<Integer> {
        @Mixin
        RunOptions options = new RunOptions();

        @Option(names = "--concurrency", split = ",", description = "Concurrency levels, e.g. 1,4,16,64.")
        List<Integer> concurrency = new ArrayList<>();

        @Option(names = "--request-rates", split = ",", description = "Request rates, e.g. 1,2,4,inf (instead of --concurrency).")
        List<String> rates = new ArrayList<>();

        @Option(names = "--output-dir", defaultValue = ".", description = "Where report.html and the JSON files go (default: the current directory).")
        Path outputDir;

        @Override
        public Integer call() throws Exception {
            if (concurrency.isEmpty() == rates.isEmpty()) {
                throw new IllegalArgumentException("give either --concurrency or --request-rates");
            }
            StreamClient client = options.client();
            Files.createDirectories(outputDir);
            List<String> labels = new ArrayList<>();
            List<Map<String, Object>> results = new ArrayList<>();
            int points = concurrency.isEmpty() ? rates.size() : concurrency.size();
            for (int i = 0; i < points; i++) {
                String label;
                Runner.Plan plan;
                if (concurrency.isEmpty()) {
                    label = "rate " + rates.get(i);
                    plan = options.plan(rates.get(i).equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(rates.get(i)),
                            options.maxConcurrency);
                } else {
                    label = "concurrency " + concurrency.get(i);
                    plan = options.plan(options.rate(), concurrency.get(i));
                }
                Map<String, Object> r = measure(options, client, plan, label);
                labels.add(label);
                results.add(r);
                JSON.writeValue(outputDir.resolve(label.replace(' ', '-') + ".json").toFile(), r);
            }
            Report.printTable(System.out, labels, results);
            Path html = outputDir.resolve("report.html");
            Files.writeString(html, Report.html(labels, results, concurrency.isEmpty() ? "request rate" : "concurrency"));
            System.out.println("report: " + html.toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "soak", mixinStandardHelpOptions = true,
            description = "Steady load for a fixed time with cancelling and vanishing clients; samples the server's memory, live "
                    + "NDArrays and KV cache each interval and fails (exit 1) on errors or growth.")
    static final class SoakCommand implements Callable<Integer> {
        @Mixin
        RunOptions options = new RunOptions();

        @Option(names = "--duration", defaultValue = "5m", description = "How long the load runs: 90s, 5m, 1h (default: ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--concurrency", defaultValue = "8",
                description = "Clients at once; choose a share (about half) of the concurrency the server sustains (default: ${DEFAULT-VALUE}).")
        int concurrency;

        @Option(names = "--cancel-ratio", defaultValue = "0.1", description = "Share of requests abandoned after a few chunks (default: ${DEFAULT-VALUE}).")
        double cancelRatio;

        @Option(names = "--disconnect-ratio", defaultValue = "0.05",
                description = "Share of clients that vanish right after sending (default: ${DEFAULT-VALUE}).")
        double disconnectRatio;

        @Option(names = "--interval", defaultValue = "60s", description = "Sampling interval (default: ${DEFAULT-VALUE}).")
        String interval;

        @Option(names = "--metrics-url", description = "The server's Prometheus endpoint (default: /metrics beside --base-url).")
        URI metricsUrl;

        @Option(names = "--rss-tolerance", defaultValue = "0.10",
                description = "Resident-memory growth allowed from the first half of the run to the second (default: ${DEFAULT-VALUE}).")
        double rssTolerance;

        @Option(names = "--result-json", description = "Write every sample and the verdict to this file.")
        Path resultJson;

        @Override
        public Integer call() throws Exception {
            StreamClient client = options.client();
            URI base = URI.create(options.baseUrl);
            URI metrics = metricsUrl != null ? metricsUrl : base.resolve("/metrics");
            Soak.Settings settings = new Soak.Settings(parseDuration(duration), concurrency, cancelRatio, disconnectRatio,
                    parseDuration(interval), metrics, options.seed, rssTolerance);
            List<Dataset.Prompt> prompts = Dataset.load(options.dataset, Math.max(options.numPrompts, 100), options.seed,
                    options.inputLen, options.outputLen, options.endpoint.equals("completions"));
            Soak.Result result = new Soak(client, prompts, settings).run(s -> System.out.println(Soak.row(s)),
                    () -> System.out.println(Soak.header()));
            System.out.printf("idle before: %.0f live NDArrays, %.0f MiB resident; after: %.0f live NDArrays, %.0f MiB resident, "
                    + "KV %.1f%%%n", result.before().liveArrays(), result.before().rssBytes() / (1 << 20), result.after().liveArrays(),
                    result.after().rssBytes() / (1 << 20), 100 * result.after().kvUsage());
            if (resultJson != null) {
                JSON.writeValue(resultJson.toFile(), result);
            }
            if (result.passed()) {
                System.out.println("soak passed");
                return 0;
            }
            result.failures().forEach(f -> System.out.println("soak FAILED: " + f));
            return 1;
        }

        static Duration parseDuration(String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)").matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a duration like 90s, 5m or 1h");
            }
            double value = Double.parseDouble(m.group(1));
            double seconds = switch (m.group(2)) {
                case "ms" -> value / 1000;
                case "s" -> value;
                case "m" -> value * 60;
                default -> value * 3600;
            };
            return Duration.ofMillis((long) (seconds * 1000));
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true, description = "Two result files side by side, with the ratio B/A of each figure.")
    static final class Compare implements Callable<Integer> {
        @Parameters(index = "0", description = "Result JSON A (run --result-json, or a sweep point).")
        Path a;

        @Parameters(index = "1", description = "Result JSON B.")
        Path b;

        @Override
        public Integer call() throws Exception {
            Report.printComparison(System.out, a.getFileName().toString(), JSON.readTree(a.toFile()), b.getFileName().toString(),
                    JSON.readTree(b.toFile()));
            return 0;
        }
    }
}
