package ai.nuri.loadtest.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The terminal table, the comparison of two results, and the self-contained HTML report of a sweep. */
final class Report {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ECHARTS = "/META-INF/resources/webjars/echarts/5.5.0/echarts.min.js";
    static final List<String> ROWS = List.of("completed", "failed", "duration", "request_throughput", "output_throughput",
            "total_token_throughput", "request_goodput",
            "mean_ttft_ms", "median_ttft_ms", "p90_ttft_ms", "p99_ttft_ms", "max_ttft_ms",
            "mean_tpot_ms", "median_tpot_ms", "p90_tpot_ms", "p99_tpot_ms", "max_tpot_ms",
            "mean_itl_ms", "median_itl_ms", "p90_itl_ms", "p99_itl_ms", "max_itl_ms",
            "mean_e2el_ms", "median_e2el_ms", "p90_e2el_ms", "p99_e2el_ms", "max_e2el_ms");

    private Report() {}

    static void printTable(PrintStream out, List<String> labels, List<Map<String, Object>> results) {
        StringBuilder header = new StringBuilder(String.format("%-24s", ""));
        labels.forEach(l -> header.append(String.format(" %16s", l)));
        out.println(header);
        for (String row : ROWS) {
            if (results.stream().noneMatch(r -> r.containsKey(row))) {
                continue;
            }
            StringBuilder line = new StringBuilder(String.format("%-24s", row));
            for (Map<String, Object> r : results) {
                line.append(String.format(" %16s", format(r.get(row))));
            }
            out.println(line);
        }
        for (int i = 0; i < results.size(); i++) {
            Object errors = results.get(i).get("errors");
            if (errors instanceof Map<?, ?> m && !m.isEmpty()) {
                out.println("failures (" + labels.get(i) + "): " + m);
            }
        }
    }

    static void printComparison(PrintStream out, String nameA, JsonNode a, String nameB, JsonNode b) {
        out.println(String.format("%-24s %16s %16s %10s", "", nameA, nameB, "B/A"));
        for (String row : ROWS) {
            if (!a.has(row) || !b.has(row)) {
                continue;
            }
            if (a.get(row).isNull() || b.get(row).isNull()) {
                out.println(String.format("%-24s %16s %16s %10s", row, a.get(row).isNull() ? "-" : format(a.get(row).asDouble()),
                        b.get(row).isNull() ? "-" : format(b.get(row).asDouble()), "-"));
                continue;
            }
            double x = a.get(row).asDouble();
            double y = b.get(row).asDouble();
            out.println(String.format("%-24s %16s %16s %10s", row, format(x), format(y), x == 0 ? "-" : String.format("%.3f", y / x)));
        }
    }

    private static String format(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof Double d) {
            return String.format("%.2f", d);
        }
        return v.toString();
    }

    /** One HTML file that opens offline: ECharts inlined, the results as data, six charts. */
    static String html(List<String> labels, List<Map<String, Object>> results, String axis) throws IOException {
        String echarts;
        try (InputStream in = Report.class.getResourceAsStream(ECHARTS)) {
            if (in == null) {
                throw new IOException("the ECharts webjar is missing from the classpath (" + ECHARTS + ")");
            }
            echarts = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int busiest = 0;
        for (int i = 1; i < results.size(); i++) {
            if (((Number) results.get(i).get("total_token_throughput")).doubleValue()
                    > ((Number) results.get(busiest).get("total_token_throughput")).doubleValue()) {
                busiest = i;
            }
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("labels", labels);
        data.put("axis", axis);
        List<Map<String, Object>> figures = new ArrayList<>();
        for (Map<String, Object> r : results) {
            Map<String, Object> f = new LinkedHashMap<>(r);
            f.remove("requests");
            figures.add(f);
        }
        data.put("results", figures);
        data.put("busiest", labels.get(busiest));
        data.put("timeline", results.get(busiest).get("requests"));
        String json = JSON.writeValueAsString(data).replace("</", "<\\/");
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>nuri-loadtest sweep</title>
                <style>body{font-family:sans-serif;margin:16px;background:#fff}h1{font-size:20px}
                .grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}.chart{height:320px;border:1px solid #ddd}
                .wide{grid-column:1 / span 2;height:420px}table{border-collapse:collapse;font-size:12px;margin-top:16px}
                td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th:first-child,td:first-child{text-align:left}</style>
                <script>%s</script></head><body>
                <h1>nuri-loadtest sweep over %s</h1>
                <div class="grid">
                <div id="throughput" class="chart"></div><div id="goodput" class="chart"></div>
                <div id="ttft" class="chart"></div><div id="tpot" class="chart"></div>
                <div id="itl" class="chart"></div><div id="e2el" class="chart"></div>
                <div id="timeline" class="chart wide"></div>
                </div><table id="figures"></table>
                <script>
                const data = %s;
                const x = data.labels;
                const get = (k) => data.results.map(r => r[k] === undefined || r[k] === null ? null : r[k]);
                const charts = [];
                function lines(id, title, unit, keys) {
                  const c = echarts.init(document.getElementById(id), null, {renderer: 'canvas'});
                  c.setOption({title: {text: title}, tooltip: {trigger: 'axis'}, legend: {top: 24},
                    grid: {top: 64, left: 64, right: 24, bottom: 40},
                    xAxis: {type: 'category', data: x, name: data.axis, nameLocation: 'middle', nameGap: 26, axisLabel: {interval: 0}},
                    yAxis: {type: 'value', name: unit},
                    series: keys.map(k => ({name: k, type: 'line', data: get(k), animation: false}))});
                  charts.push(c);
                }
                lines('throughput', 'Throughput', 'per second', ['output_throughput', 'total_token_throughput', 'request_throughput']);
                lines('goodput', data.results[0].request_goodput === undefined ? 'Requests completed and failed' : 'Goodput',
                  data.results[0].request_goodput === undefined ? 'requests' : 'requests/s',
                  data.results[0].request_goodput === undefined ? ['completed', 'failed'] : ['request_goodput', 'request_throughput']);
                for (const m of ['ttft', 'tpot', 'itl', 'e2el']) {
                  lines(m, m.toUpperCase() + ' percentiles', 'ms', ['median_' + m + '_ms', 'p90_' + m + '_ms', 'p99_' + m + '_ms']);
                }
                const t = data.timeline;
                const tl = echarts.init(document.getElementById('timeline'), null, {renderer: 'canvas'});
                tl.setOption({title: {text: 'Requests of the busiest point (' + data.busiest + '): waiting for the first token, then streaming'},
                  tooltip: {}, legend: {top: 24}, grid: {top: 64, left: 64, right: 24, bottom: 40},
                  xAxis: {type: 'value', name: 'seconds since the start'},
                  yAxis: {type: 'category', data: t.map((r, i) => i), name: 'request', axisLabel: {show: false}},
                  series: [
                    {name: 'start', type: 'bar', stack: 'r', itemStyle: {color: 'transparent'}, data: t.map(r => r.start), animation: false},
                    {name: 'time to first token', type: 'bar', stack: 'r', data: t.map(r => r.ttft === null ? 0 : r.ttft), animation: false},
                    {name: 'streaming', type: 'bar', stack: 'r', data: t.map(r => r.ttft === null ? 0 : r.e2el - r.ttft), animation: false},
                    {name: 'failed', type: 'bar', stack: 'r', itemStyle: {color: '#d33'}, data: t.map(r => r.ttft === null ? r.e2el : 0), animation: false}]});
                charts.push(tl);
                const rows = Object.keys(data.results[0]).filter(k => typeof data.results[0][k] === 'number');
                let html = '<tr><th></th>' + x.map(l => '<th>' + l + '</th>').join('') + '</tr>';
                for (const k of rows) {
                  html += '<tr><td>' + k + '</td>' + data.results.map(r => '<td>' + (typeof r[k] === 'number' ? r[k].toFixed(2) : '-') + '</td>').join('') + '</tr>';
                }
                document.getElementById('figures').innerHTML = html;
                window.chartsDrawn = charts.length;
                </script></body></html>
                """.formatted(echarts, axis, json);
    }
}
