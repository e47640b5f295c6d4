package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** A sweep's HTML report opens offline in a real headless Chromium and draws its charts from the sweep's figures. */
class ReportTest {
    @Test
    void theReportOpensOfflineAndDrawsEveryChart() throws Exception {
        List<String> labels = new ArrayList<>();
        List<Map<String, Object>> results = new ArrayList<>();
        try (ScriptedServer s = new ScriptedServer(30, 10, 4, 0, 0)) {
            for (int c : new int[] {1, 4}) {
                labels.add("concurrency " + c);
                results.add(new Runner(ScriptedServerTest.client(s), ScriptedServerTest.plan(8, c)).run(o -> { }));
            }
        }
        Path dir = Files.createDirectories(Path.of("target", "report-test"));
        Path html = dir.resolve("report.html");
        Files.writeString(html, Report.html(labels, results, "concurrency"));
        assertTrue(!Files.readString(html).contains("<script src="), "nothing loaded from elsewhere: it opens offline");

        assertTrue(Files.isExecutable(Path.of("/usr/bin/chromium")) && Files.isExecutable(Path.of("/usr/bin/chromedriver")),
                "Debian chromium and chromium-driver are installed by .ci/run");
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless=new", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                "--window-size=1200,1700");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort().build();
        ChromeDriver browser = new ChromeDriver(service, options);
        try {
            browser.get(html.toAbsolutePath().toUri().toString());
            new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> Long.valueOf(7).equals(
                    ((ChromeDriver) d).executeScript("return window.chartsDrawn || 0")));
            Long canvases = (Long) browser.executeScript("return document.querySelectorAll('canvas').length");
            assertTrue(canvases >= 7, canvases + " canvases");
            // The throughput chart's first series holds one point per sweep point, the values of the results.
            Double plotted = ((Number) browser.executeScript(
                    "return echarts.getInstanceByDom(document.getElementById('throughput')).getOption().series[0].data[1]"))
                    .doubleValue();
            assertEquals(((Number) results.get(1).get("output_throughput")).doubleValue(), plotted, 1e-9);
            Long bars = (Long) browser.executeScript(
                    "return echarts.getInstanceByDom(document.getElementById('timeline')).getOption().series[2].data.length");
            assertEquals(8L, bars, "one bar per request of the busiest point");
            Path shots = Files.createDirectories(Path.of("target", "screenshots"));
            File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), shots.resolve("loadtest-report.png"), StandardCopyOption.REPLACE_EXISTING);
        } finally {
            browser.quit();
        }
    }
}
