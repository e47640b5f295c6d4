package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The web chat page in a real headless Chromium (Debian's chromium and chromium-driver). */
class WebChatPageTest {
    static final String QUESTION = "여권 재발급은 어디서 하나요?";
    static final String ANSWER = "여권 재발급은 가까운 시청, 구청, 도청의 여권 민원실에서 신청할 수 있습니다. 신분증과 여권 사진을 준비하세요.";
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    ChromeDriver browser;

    @BeforeEach
    void openBrowser() {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/chromium")) && Files.isExecutable(Path.of("/usr/bin/chromedriver")),
                "Debian chromium and chromium-driver are installed by .ci/run");
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless=new",
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1100,900", "--lang=ko-KR");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(10));
    }

    private void open(TestServer s) {
        browser.get(s.url("/"));
        waitUpTo(10).until(d -> !d.findElements(By.cssSelector("#model option")).isEmpty());
    }

    private void ask(String question) {
        WebElement prompt = browser.findElement(By.id("prompt"));
        prompt.sendKeys(question);
        prompt.sendKeys(Keys.ENTER);
    }

    private String lastAnswer() {
        List<WebElement> answers = browser.findElements(By.cssSelector(".message.assistant .content"));
        return answers.isEmpty() ? "" : answers.get(answers.size() - 1).getText();
    }

    private void screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    /** The demo vision model: a picture attached through the file picker, its thumbnail, the Korean answer about it. */
    @Test
    void aPictureAttachedInThePageIsAnsweredInKorean() throws Exception {
        ai.nuri.model.train.ShapeScenes.Scene scene = new ai.nuri.model.train.ShapeScenes().scene(VisionServingTest.UNSEEN);
        Path picture = Files.createTempFile("nuri-scene", ".png");
        String url = VisionServingTest.dataUrl(scene);
        Files.write(picture, java.util.Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1)));
        try (TestServer s = new TestServer(VisionServingTest.VISION, new EngineConfig(8, 1024, 256, 16, 16, 256),
                TestServer.config(List.of(), 0), 0)) {
            open(s);
            assertEquals("nuri-ko-vision-mini", browser.findElement(By.id("model")).getAttribute("value"));
            // The page's default of 256 new tokens is this model's whole context: the page then leaves it to the server.
            browser.findElement(By.id("image")).sendKeys(picture.toAbsolutePath().toString());
            waitUpTo(10).until(d -> d.findElement(By.id("attachment")).isDisplayed());
            ask(scene.question());
            waitUpTo(30).until(d -> !d.findElements(By.cssSelector(".message.assistant .stats")).isEmpty());
            assertEquals(scene.answer(), lastAnswer());
            WebElement thumbnail = browser.findElement(By.cssSelector(".message.user img"));
            assertTrue(thumbnail.getAttribute("src").startsWith("data:image/png;base64,"), "the thumbnail is the picture sent");
            assertFalse(browser.findElement(By.id("error")).isDisplayed());
            screenshot("chat-image.png");
        } finally {
            Files.deleteIfExists(picture);
        }
    }

    @Test
    void aQuestionStreamsItsAnswerIntoThePageWithStats() throws Exception {
        try (TestServer s = new TestServer(new EngineConfig(8, 512, 256, 16, 16, 512), TestServer.config(List.of(), 0), 25)) {
            open(s);
            assertEquals("nuri-ko-mini", browser.findElement(By.id("model")).getAttribute("value"));
            ask(QUESTION);
            List<String> frames = new ArrayList<>();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline && browser.findElements(By.cssSelector(".message.assistant .stats")).isEmpty()) {
                String now = lastAnswer();
                if (!now.isEmpty() && (frames.isEmpty() || !frames.get(frames.size() - 1).equals(now))) {
                    frames.add(now);
                }
                Thread.sleep(5);
            }
            assertEquals(ANSWER, lastAnswer());
            assertTrue(frames.size() >= 3, "the answer grew over several frames: " + frames);
            for (String f : frames) {
                assertTrue(ANSWER.startsWith(f), "every frame is a prefix of the answer: " + f);
            }
            String stats = browser.findElement(By.cssSelector(".message.assistant .stats")).getText();
            assertTrue(stats.matches("첫 토큰 \\d+ ms · [0-9.]+ 토큰/초 · \\d+ 토큰"), stats);
            assertEquals(QUESTION, browser.findElement(By.cssSelector(".message.user")).getText());
            assertFalse(browser.findElement(By.id("attachment")).isDisplayed(), "no attachment bar without an image");
            assertFalse(browser.findElement(By.id("error")).isDisplayed());
            screenshot("chat-answer.png");
            browser.manage().window().setSize(new Dimension(390, 844));
            screenshot("chat-phone.png");
        }
    }

    @Test
    void theStopButtonEndsTheStreamAndTheServerCancels() throws Exception {
        try (TestServer s = new TestServer(new EngineConfig(8, 512, 256, 16, 16, 512), TestServer.config(List.of(), 0), 150)) {
            open(s);
            ask(QUESTION);
            waitUpTo(30).until(d -> !lastAnswer().isEmpty());
            assertEquals(1.0, s.metric("nuri_num_requests_running"));
            browser.findElement(By.id("stop")).click();
            waitUpTo(10).until(d -> !d.findElements(By.cssSelector(".message.assistant .stopped")).isEmpty());
            String partial = lastAnswer();
            assertTrue(ANSWER.startsWith(partial) && partial.length() < ANSWER.length(), "stopped mid-answer: " + partial);
            assertFalse(browser.findElement(By.id("stop")).isEnabled());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && s.metric("nuri_num_requests_running") > 0) {
                Thread.sleep(20);
            }
            assertEquals(0.0, s.metric("nuri_num_requests_running"), "the server cancelled the request");
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"));
        }
    }

    @Test
    void aServerErrorIsShownInKoreanAndAKeyCanBeSet() throws Exception {
        try (TestServer s = new TestServer(new EngineConfig(8, 512, 256, 16, 16, 512),
                TestServer.config(List.of("sk-page-test"), 0))) {
            browser.get(s.url("/"));
            WebElement error = browser.findElement(By.id("error"));
            waitUpTo(10).until(d -> error.isDisplayed());
            assertTrue(error.getText().contains("API 키가 없거나 올바르지 않습니다"), error.getText());
            browser.findElement(By.cssSelector("#settings summary")).click();
            WebElement key = browser.findElement(By.id("api-key"));
            key.sendKeys("sk-wrong");
            key.sendKeys(Keys.TAB);
            ask(QUESTION);
            waitUpTo(10).until(d -> error.isDisplayed() && error.getText().contains("API 키"));
            assertTrue(inViewport(error), "the error shows where the user is looking");
            key.clear();
            key.sendKeys("sk-page-test");
            key.sendKeys(Keys.TAB);
            waitUpTo(10).until(d -> !d.findElements(By.cssSelector("#model option")).isEmpty());
            ask(QUESTION);
            waitUpTo(30).until(d -> !d.findElements(By.cssSelector(".message.assistant .stats")).isEmpty());
            assertEquals(ANSWER, lastAnswer());
            assertFalse(error.isDisplayed(), "the error went away once the key was right");
        }
    }

    private boolean inViewport(WebElement element) {
        return (Boolean) ((JavascriptExecutor) browser).executeScript("const r = arguments[0].getBoundingClientRect();"
                + "return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;", element);
    }

    @Test
    void thePageSaysWhichModelAnswersAndThatTheDemoIsADemo() throws Exception {
        try (TestServer s = new TestServer()) {
            open(s);
            waitUpTo(10).until(d -> d.findElement(By.id("model-info")).isDisplayed());
            assertEquals("nuri-ko-mini", browser.findElement(By.id("model-name")).getText());
            String description = browser.findElement(By.id("model-description")).getText();
            assertTrue(description.contains("시연용 모델") && description.contains("말뭉치"), description);
            assertEquals("/favicon.svg", browser.findElement(By.cssSelector("link[rel=icon]")).getDomAttribute("href"));
            var icon = s.get("/favicon.svg");
            assertEquals(200, icon.statusCode());
            assertTrue(icon.headers().firstValue("Content-Type").orElse("").startsWith("image/svg+xml"));
        }
    }

    /**
     * A context of 64 tokens holds about one question and answer of the demo model: from the second
     * turn on the oldest are dropped, the page says so, and no turn ends in a 400 for its length.
     */
    @Test
    void aLongConversationDropsItsOldestTurnsInsteadOfFailing() throws Exception {
        try (TestServer s = new TestServer(new EngineConfig(8, 512, 256, 16, 16, 64), TestServer.config(List.of(), 0))) {
            open(s);
            List<String> questions = List.of(QUESTION, "주민등록증 재발급 수수료는 얼마인가요?", "주민등록등본은 어디서 뗄 수 있나요?",
                    "주민등록증은 몇 살부터 발급받나요?");
            for (int i = 0; i < questions.size(); i++) {
                ask(questions.get(i));
                int answered = i + 1;
                waitUpTo(30).until(d -> d.findElements(By.cssSelector(".message.assistant .stats")).size() == answered
                        || d.findElement(By.id("error")).isDisplayed());
                assertFalse(browser.findElement(By.id("error")).isDisplayed(),
                        "turn " + answered + ": " + browser.findElement(By.id("error")).getText());
                assertFalse(lastAnswer().isBlank(), "turn " + answered + " answered");
            }
            List<WebElement> notes = browser.findElements(By.cssSelector("#conversation .note"));
            assertFalse(notes.isEmpty(), "the page said it dropped old turns");
            assertTrue(notes.get(0).getText().contains("앞의 메시지"), notes.get(0).getText());
            WebElement last = browser.findElements(By.cssSelector(".message.assistant")).get(questions.size() - 1);
            assertTrue((Boolean) ((JavascriptExecutor) browser).executeScript(
                    "return arguments[0].getBoundingClientRect().top < window.innerHeight;", last), "the view followed the answer");
        }
    }

    @Test
    void theLayoutFitsA375PixelPhone() throws Exception {
        browser.manage().window().setSize(new Dimension(375, 740));
        try (TestServer s = new TestServer()) {
            open(s);
            ask(QUESTION);
            waitUpTo(30).until(d -> !d.findElements(By.cssSelector(".message.assistant .stats")).isEmpty());
            assertEquals(ANSWER, lastAnswer());
            long viewport = (Long) ((JavascriptExecutor) browser).executeScript("return document.documentElement.clientWidth;");
            long content = (Long) ((JavascriptExecutor) browser).executeScript("return document.documentElement.scrollWidth;");
            assertTrue(content <= viewport, "no sideways scrolling: content " + content + " px in " + viewport);
            for (String id : List.of("send", "prompt", "stop")) {
                assertTrue(inViewport(browser.findElement(By.id(id))), id + " is on screen");
            }
            screenshot("chat-375px.png");
        }
    }

    @Test
    void modelOutputCannotInjectHtmlAndEveryControlHasALabel() {
        try (TestServer s = new TestServer()) {
            open(s);
            Object rendered = ((JavascriptExecutor) browser).executeAsyncScript(
                    "const done = arguments[arguments.length - 1];"
                            + "import('/markdown.js').then(m => done(m.renderMarkdown("
                            + "'**굵게** <img src=x onerror=alert(1)> [링크](javascript:alert(1)) [좋은](https://gov.kr)\\n- 하나\\n- 둘')));");
            String html = (String) rendered;
            assertFalse(html.contains("<img"), html);
            assertFalse(html.contains("href=\"javascript"), html);
            assertTrue(html.contains("<strong>굵게</strong>") && html.contains("&lt;img") && html.contains("<ul><li>하나</li>"), html);
            assertTrue(html.contains("<a href=\"https://gov.kr\""), html);
            for (WebElement input : browser.findElements(By.cssSelector("input, select, textarea"))) {
                String id = input.getAttribute("id");
                assertFalse(browser.findElements(By.cssSelector("label[for='" + id + "']")).isEmpty(), "a label for #" + id);
            }
            assertEquals("ko", browser.findElement(By.tagName("html")).getAttribute("lang"));

            Path png = Files.createTempFile("nuri-attach", ".png");
            java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(4, 4, java.awt.image.BufferedImage.TYPE_INT_RGB);
            javax.imageio.ImageIO.write(image, "png", png.toFile());
            browser.findElement(By.id("image")).sendKeys(png.toAbsolutePath().toString());
            WebElement error = browser.findElement(By.id("error"));
            waitUpTo(5).until(d -> error.isDisplayed());
            assertTrue(error.getText().contains("선택한 모델은 이미지를 받을 수 없습니다"), error.getText());
            assertFalse(browser.findElement(By.id("attachment")).isDisplayed(), "the image was not attached");
            assertEquals("prompt", browser.switchTo().activeElement().getAttribute("id"), "focus starts in the question box");
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }
}
