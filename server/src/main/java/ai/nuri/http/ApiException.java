package ai.nuri.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. */
public final class ApiException extends RuntimeException {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Integer retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code, Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException badRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, null);
    }

    public static ApiException unsupported(String param) {
        return new ApiException(400, "invalid_request_error", "'" + param + "' is not supported by this server", param,
                "unsupported_parameter", null);
    }

    public static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error", "The model '" + model + "' does not exist", "model",
                "model_not_found", null);
    }

    /** The 503 for a request the engine turned away: draining, or a full waiting queue. */
    static ApiException rejected(ai.nuri.engine.EngineRejectedException e) {
        return e.reason() == ai.nuri.engine.EngineRejectedException.Reason.DRAINING ? draining()
                : unavailable("The server is overloaded; retry later", "queue_full", 1);
    }

    /** The 503 of a server that is shutting down. */
    static ApiException draining() {
        return unavailable("The server is shutting down", "server_draining", 5);
    }

    public static ApiException unavailable(String message, String code, int retryAfterSeconds) {
        return new ApiException(503, "server_error", message, null, code, retryAfterSeconds);
    }

    public int status() {
        return status;
    }

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        if (param == null) {
            error.putNull("param");
        } else {
            error.put("param", param);
        }
        if (code == null) {
            error.putNull("code");
        } else {
            error.put("code", code);
        }
        return root.toString();
    }
}
