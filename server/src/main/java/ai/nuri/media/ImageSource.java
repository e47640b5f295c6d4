package ai.nuri.media;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Where an {@code image_url} points: a {@code data:} URL (base64), or an http(s) URL on a host
 * the operator allowed, fetched with a size limit, a time limit and no redirects. Everything
 * else ({@code file:}, other schemes, other hosts) is refused.
 */
public final class ImageSource {
    private final List<String> allowedDomains;
    private final long maxBytes;
    private final Duration timeout;
    private final HttpClient http;

    public ImageSource(List<String> allowedDomains, long maxBytes, Duration timeout) {
        this.allowedDomains = allowedDomains.stream().map(d -> d.strip().toLowerCase(Locale.ROOT)).filter(d -> !d.isEmpty()).toList();
        this.maxBytes = maxBytes;
        this.timeout = timeout;
        this.http = this.allowedDomains.isEmpty() ? null
                : HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(timeout).build();
    }

    public byte[] fetch(String url) {
        if (url.regionMatches(true, 0, "data:", 0, 5)) {
            return dataUrl(url);
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new MediaException("the image URL is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new MediaException("image URLs must be data: URLs" + (allowedDomains.isEmpty() ? "" : " or http(s) URLs on an allowed domain")
                    + "; '" + scheme + ":' is not accepted");
        }
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        if (!allowed(host)) {
            throw new MediaException("remote image URLs are refused unless their host is in --allowed-media-domains; '"
                    + host + "' is not");
        }
        return download(uri);
    }

    private boolean allowed(String host) {
        for (String d : allowedDomains) {
            if (host.equals(d) || host.endsWith("." + d)) {
                return true;
            }
        }
        return false;
    }

    private byte[] download(URI uri) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                if (response.statusCode() / 100 == 3) {
                    throw new MediaException("the image URL answered with a redirect (" + response.statusCode()
                            + "); redirects are not followed");
                }
                if (response.statusCode() != 200) {
                    throw new MediaException("the image URL answered " + response.statusCode());
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buffer = new byte[64 * 1024];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    if (out.size() + n > maxBytes) {
                        throw new MediaException("the image at the URL is larger than " + maxBytes + " bytes");
                    }
                    out.write(buffer, 0, n);
                }
                return out.toByteArray();
            }
        } catch (IOException e) {
            throw new MediaException("the image URL could not be fetched: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MediaException("the image fetch was interrupted", e);
        }
    }

    /** {@code data:[<mime>][;base64],<data>}; only base64 image data is an image. */
    static byte[] dataUrl(String url) {
        int comma = url.indexOf(',');
        if (comma < 0) {
            throw new MediaException("the data: URL has no ',' before its data");
        }
        String meta = url.substring(5, comma).toLowerCase(Locale.ROOT);
        if (!meta.endsWith(";base64")) {
            throw new MediaException("image data: URLs must be base64 (data:image/...;base64,...)");
        }
        String mime = meta.substring(0, meta.length() - ";base64".length());
        if (!mime.isEmpty() && !mime.startsWith("image/")) {
            throw new MediaException("the data: URL holds '" + mime + "', not an image");
        }
        try {
            return Base64.getDecoder().decode(url.substring(comma + 1).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new MediaException("the data: URL's base64 is invalid: " + e.getMessage());
        }
    }
}
