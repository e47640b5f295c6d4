package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.metrics.ModelMetrics;
import ai.nuri.text.Tokenizer;

/**
 * A model as the HTTP layer sees it: its id, its engine, its tokenizer, its meters, for an
 * image+text model how it takes images (null for a text model), and what its model card says of
 * it (null without a card).
 */
public record ServedModel(String id, Engine engine, ModelMetrics metrics, long created, ImageInputs images,
        String description) {
    public ServedModel(String id, Engine engine, ModelMetrics metrics, long created) {
        this(id, engine, metrics, created, null, null);
    }

    public boolean acceptsImages() {
        return images != null;
    }

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
