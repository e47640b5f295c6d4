package ai.nuri.text;

import java.util.List;

/**
 * One turn of a conversation: role ("system", "user", "assistant" or "tool") and its text. A turn
 * with images has {@code parts}, text and image placeholders in order, which the chat template sees
 * as transformers passes them ({@code {"type": "text", "text": ...}}, {@code {"type": "image"}});
 * {@code content} is then the text parts joined. An assistant turn may carry the tool calls it made
 * ({@code content} may then be null); a tool turn names the call it answers ({@code toolCallId}).
 */
public record ChatMessage(String role, String content, List<Part> parts, List<ToolCall> toolCalls, String toolCallId) {
    /** A text part, or an image ({@code text} null). */
    public record Part(String text) {
        public static final Part IMAGE = new Part(null);

        public boolean isImage() {
            return text == null;
        }
    }

    public ChatMessage {
        parts = parts == null ? null : List.copyOf(parts);
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content, List<Part> parts) {
        this(role, content, parts, null, null);
    }

    public ChatMessage(String role, String content) {
        this(role, content, null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** An assistant turn that called tools ({@code content} may be null). */
    public static ChatMessage assistantCalls(String content, List<ToolCall> calls) {
        return new ChatMessage("assistant", content, null, calls, null);
    }

    /** A tool's answer to the call {@code toolCallId}. */
    public static ChatMessage toolResult(String toolCallId, String content) {
        return new ChatMessage("tool", content, null, null, toolCallId);
    }

    /** A message of text and images; {@code content} is its text. */
    public static ChatMessage withParts(String role, List<Part> parts) {
        StringBuilder text = new StringBuilder();
        parts.stream().filter(p -> !p.isImage()).forEach(p -> text.append(p.text()));
        return new ChatMessage(role, text.toString(), parts);
    }

    public long images() {
        return parts == null ? 0 : parts.stream().filter(Part::isImage).count();
    }
}
