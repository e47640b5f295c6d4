package ai.nuri.engine;

/** Why a sequence ended, with the name the OpenAI API uses. */
public enum FinishReason {
    /** An end-of-sequence token, a stop token id or a stop string. */
    STOP("stop"),
    /** max_tokens, or the model's context length. */
    LENGTH("length");

    private final String apiName;

    FinishReason(String apiName) {
        this.apiName = apiName;
    }

    public String apiName() {
        return apiName;
    }
}
