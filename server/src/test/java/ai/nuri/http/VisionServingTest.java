package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import ai.nuri.model.train.ShapeScenes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Chat about images over HTTP with the bundled demo vision model: the official OpenAI SDK as the
 * client, pictures from seeds its training never saw, and every kind of bad image refused with a
 * 400 that says what is wrong, while the server keeps serving.
 */
class VisionServingTest {
    static final Path VISION = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-vision-mini");
    static final long UNSEEN = 9_000_000_000L; // the model card's evaluation seeds: training never drew these
    static TestServer server;
    static OpenAIClient client;
    static final ShapeScenes SCENES = new ShapeScenes();

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer(VISION, new EngineConfig(16, 1024, 512, 16, 64, 256, true),
                new ServerConfig("127.0.0.1", 0, List.of(), 8 << 20, 0, List.of(), Duration.ofSeconds(20), Duration.ZERO), 0);
        client = OpenAIOkHttpClient.builder().baseUrl(server.url("/v1")).apiKey("x").build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    static String dataUrl(ShapeScenes.Scene s) throws Exception {
        BufferedImage img = new BufferedImage(s.image().width(), s.image().height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, (s.image().sample(x, y, 0) << 16) | (s.image().sample(x, y, 1) << 8) | s.image().sample(x, y, 2));
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
    }

    static ChatCompletionCreateParams ask(ShapeScenes.Scene s) throws Exception {
        return ChatCompletionCreateParams.builder().model("nuri-ko-vision-mini").temperature(0.0)
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(dataUrl(s)).build()).build()),
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(s.question()).build())))
                .build();
    }

    @Test
    void theSdkGetsTheKoreanAnswerAboutAnUnseenPictureStreamedAndNot() throws Exception {
        int right = 0;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ShapeScenes.Scene s = SCENES.scene(UNSEEN + i);
            ChatCompletion c = client.chat().completions().create(ask(s));
            String answer = c.choices().get(0).message().content().orElseThrow();
            if (answer.equals(s.answer())) {
                right++;
            } else {
                wrong.add(s.question() + " → " + answer + " (right: " + s.answer() + ")");
            }
            if (i < 2) {
                StringBuilder streamed = new StringBuilder();
                try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ask(s))) {
                    stream.stream().forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(streamed::append)));
                }
                assertEquals(answer, streamed.toString(), "the stream adds up to the same answer");
            }
        }
        assertTrue(right >= 9, right + "/10 right; wrong: " + wrong);
        assertTrue(server.metric("nuri_images_total") >= 12);
        assertTrue(server.metric("nuri_mm_cache_hits_total") >= 2, "the streamed repeats reused their encodings");
    }

    /** The Responses API takes input_image parts through the same image path as chat. */
    @Test
    void theResponsesApiAnswersAboutAPictureToo() throws Exception {
        ShapeScenes.Scene s = SCENES.scene(UNSEEN + 3);
        String chat = client.chat().completions().create(ask(s)).choices().get(0).message().content().orElseThrow();
        com.openai.models.responses.ResponseInputItem.Message message = com.openai.models.responses.ResponseInputItem.Message
                .builder().role(com.openai.models.responses.ResponseInputItem.Message.Role.USER)
                .addContent(com.openai.models.responses.ResponseInputImage.builder().imageUrl(dataUrl(s))
                        .detail(com.openai.models.responses.ResponseInputImage.Detail.AUTO).build())
                .addInputTextContent(s.question()).build();
        com.openai.models.responses.Response r = client.responses().create(com.openai.models.responses.ResponseCreateParams
                .builder().model("nuri-ko-vision-mini").temperature(0.0)
                .inputOfResponse(List.of(com.openai.models.responses.ResponseInputItem.ofMessage(message))).build());
        assertEquals(chat, ResponsesApiTest.text(r), "the same answer as chat gives");
    }

    /** Same question, two pictures, one after the other with prefix caching on: each gets its own answer. */
    @Test
    void twoPicturesWithTheSameQuestionGetTheirOwnAnswers() throws Exception {
        List<ShapeScenes.Scene> pair = new ArrayList<>();
        for (long seed = UNSEEN; pair.size() < 2; seed++) {
            ShapeScenes.Scene s = SCENES.scene(seed);
            if (s.question().equals("그림에 무엇이 있나요?") && (pair.isEmpty() || !pair.get(0).answer().equals(s.answer()))) {
                pair.add(s);
            }
        }
        for (ShapeScenes.Scene s : pair) {
            String answer = client.chat().completions().create(ask(s)).choices().get(0).message().content().orElseThrow();
            assertEquals(s.answer(), answer, "the answer about this picture, not the one before");
        }
    }

    @Test
    void modelsSayItTakesImagesAndTokenIdsShowTheExpandedPrompt() throws Exception {
        JsonNode models = new ObjectMapper().readTree(server.get("/v1/models").body());
        assertEquals("[\"text\",\"image\"]", models.get("data").get(0).get("input_modalities").toString());
        ShapeScenes.Scene s = SCENES.scene(UNSEEN + 3);
        String body = "{\"model\":\"nuri-ko-vision-mini\",\"return_token_ids\":true,\"temperature\":0,\"messages\":[{\"role\":\"user\","
                + "\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + dataUrl(s) + "\",\"detail\":\"low\"}},"
                + "{\"type\":\"text\",\"text\":\"" + s.question() + "\"}]}]}";
        JsonNode r = new ObjectMapper().readTree(server.post("/v1/chat/completions", body).body());
        JsonNode prompt = r.get("prompt_token_ids");
        int image = server.model.imageTokenId();
        int images = 0;
        for (JsonNode t : prompt) {
            images += t.asInt() == image ? 1 : 0;
        }
        assertEquals(server.model.imageTokensPerImage(), images, "the one image placeholder became every feature row");
        assertEquals(r.get("usage").get("prompt_tokens").asInt(), prompt.size());
        assertTrue(r.get("choices").get(0).get("token_ids").size() > 0);
        String tokenize = "{\"model\":\"nuri-ko-vision-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"data:image/png;base64,AA==\"}},{\"type\":\"text\",\"text\":\"" + s.question() + "\"}]}]}";
        JsonNode t = new ObjectMapper().readTree(server.post("/tokenize", tokenize).body());
        assertEquals(prompt.size(), t.get("count").asInt(), "/tokenize counts the prompt as the engine sees it");
    }

    /**
     * Eight 5 MB image requests at once must not stall the event loop: their JSON, base64 and
     * pixels are handled on workers, so the loop keeps answering (here: /health round trips, which
     * the loop serves itself) and streaming a concurrent text answer.
     */
    @Test
    void eightBigImageRequestsDoNotStallTheEventLoop() throws Exception {
        java.util.Random random = new java.util.Random(5);
        BufferedImage noise = new BufferedImage(1300, 1300, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < noise.getHeight(); y++) {
            for (int x = 0; x < noise.getWidth(); x++) {
                noise.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(noise, "png", png);
        assertTrue(png.size() > 5_000_000, "a 5 MB picture: " + png.size());
        String body = "{\"model\":\"nuri-ko-vision-mini\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":["
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png.toByteArray()) + "\"}},{\"type\":\"text\",\"text\":\"무엇이 있나요?\"}]}]}";
        // A first, unmeasured round: class loading and JIT compilation of the decoders would otherwise compete
        // with the event loop for this machine's two cores and be measured as if the loop were blocked.
        List<java.util.concurrent.CompletableFuture<Integer>> warmUp = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            warmUp.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return server.post("/v1/chat/completions", body).statusCode();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        warmUp.forEach(java.util.concurrent.CompletableFuture::join);
        java.util.concurrent.atomic.AtomicBoolean uploading = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Long> healthMillis = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread prober = new Thread(() -> {
            while (uploading.get()) {
                try {
                    long t0 = System.nanoTime();
                    server.get("/health");
                    healthMillis.add((System.nanoTime() - t0) / 1_000_000);
                    Thread.sleep(2);
                } catch (Exception e) {
                    return;
                }
            }
        });
        List<java.util.concurrent.CompletableFuture<Integer>> uploads = new ArrayList<>();
        prober.start();
        for (int i = 0; i < 8; i++) {
            uploads.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return server.post("/v1/chat/completions", body).statusCode();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (var u : uploads) {
            assertEquals(200, u.join());
        }
        uploading.set(false);
        prober.join();
        long worst = healthMillis.stream().mapToLong(Long::longValue).max().orElseThrow();
        System.out.printf("event loop during 8 x %.1f MB image requests: %d /health round trips, worst %d ms%n",
                png.size() / 1e6, healthMillis.size(), worst);
        assertTrue(healthMillis.size() > 10, "the loop answered throughout: " + healthMillis.size());
        // Parsing on the loop (tried on purpose) blocked it for 333 ms at a stretch, so many probes were slow. On two
        // shared cores a probe may still meet a GC pause or a descheduled loop thread (112 ms, then 114 and 128 ms in
        // one run of about 500 probes, were seen in CI; 104 and 136 ms in a run of 120 probes, with the engine's
        // output thread and parallel sampling also on the two cores): at most 1% of probes (at least 2) over 100 ms,
        // none over 300.
        long slow = healthMillis.stream().filter(ms -> ms > 100).count();
        assertTrue(slow <= Math.max(2, healthMillis.size() / 100) && worst < 300, slow + " /health round trips over 100 ms, worst " + worst
                + " ms, while images were parsed: " + healthMillis);
    }

    record Bad(String what, String url, String message) {}

    @Test
    void badImagesAreRefusedWithTheReasonAndTheServerKeepsServing() throws Exception {
        String garbage = "data:image/png;base64," + Base64.getEncoder().encodeToString("definitely not a picture".getBytes());
        String truncated = dataUrl(SCENES.scene(UNSEEN)).substring(0, 200);
        String bomb = "data:image/png;base64," + Base64.getEncoder().encodeToString(
                Files.readAllBytes(Path.of("src/test/resources/llava/images/big.png")));
        List<Bad> table = List.of(
                new Bad("undecodable bytes", garbage, "not in a supported format"),
                new Bad("bad base64", "data:image/png;base64,@@@not*base64", "base64 is invalid"),
                new Bad("a cut-off image", truncated, "could not be decoded"),
                new Bad("not an image type", "data:text/plain;base64,aGVsbG8=", "not an image"),
                new Bad("too many pixels (read from the header)", bomb, "limit is 16777216"),
                new Bad("a remote URL not allowed", "http://images.example.com/cat.png", "--allowed-media-domains"),
                new Bad("file: is never read", "file:///etc/passwd", "'file:' is not accepted"));
        for (Bad b : table) {
            String body = "{\"model\":\"nuri-ko-vision-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                    + "\"image_url\":{\"url\":\"" + b.url() + "\"}},{\"type\":\"text\",\"text\":\"무엇이 있나요?\"}]}]}";
            HttpResponse<String> r = server.post("/v1/chat/completions", body);
            assertEquals(400, r.statusCode(), b.what() + ": " + r.body());
            JsonNode error = new ObjectMapper().readTree(r.body()).get("error");
            assertTrue(error.get("message").asText().contains(b.message()), b.what() + ": " + error);
            assertEquals("messages[0].content", error.get("param").asText(), b.what());
        }
        StringBuilder five = new StringBuilder();
        String one = dataUrl(SCENES.scene(UNSEEN + 1));
        for (int i = 0; i < 5; i++) {
            five.append("{\"type\":\"image_url\",\"image_url\":{\"url\":\"").append(one).append("\"}},");
        }
        HttpResponse<String> r = server.post("/v1/chat/completions", "{\"model\":\"nuri-ko-vision-mini\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":[" + five + "{\"type\":\"text\",\"text\":\"?\"}]}]}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("the limit is 4 per request"), r.body());
        // Still serving, and nothing was left running.
        ShapeScenes.Scene s = SCENES.scene(UNSEEN + 2);
        assertEquals(200, server.post("/v1/chat/completions", "{\"model\":\"nuri-ko-vision-mini\",\"max_tokens\":4,\"messages\":"
                + "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + dataUrl(s) + "\"}}]}]}").statusCode());
        assertEquals(0.0, server.metric("nuri_num_requests_running"));
    }
}
