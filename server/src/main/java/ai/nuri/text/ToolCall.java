package ai.nuri.text;

/** A function call made by the model: its id, the function's name and its arguments as JSON text. */
public record ToolCall(String id, String name, String arguments) {}
