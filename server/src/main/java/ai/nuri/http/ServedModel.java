package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.metrics.ModelMetrics;
import ai.nuri.text.Tokenizer;

/** A model as the HTTP layer sees it: its id, its engine, its tokenizer and its meters. */
public record ServedModel(String id, Engine engine, ModelMetrics metrics, long created) {
    public Tokenizer tokenizer() {
        return engine.tokenizer();
    }

    public int maxModelLen() {
        return engine.config().maxModelLen();
    }

    public int vocabSize() {
        return engine.model().config().vocabSize();
    }
}
