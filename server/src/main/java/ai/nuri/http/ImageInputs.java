package ai.nuri.http;

import ai.nuri.engine.EngineImage;
import ai.nuri.media.ImageDecoder;
import ai.nuri.media.ImagePreprocessor;
import ai.nuri.media.ImageSource;
import ai.nuri.media.MediaException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How one served image+text model takes images: fetch (data: URLs, allowed hosts), decode within
 * the pixel limit, preprocess per the model's {@code preprocessor_config.json}. Runs on worker
 * threads, never the event loop. Any problem is a 400 that says what is wrong with the image.
 */
public record ImageInputs(ImageSource source, ImageDecoder decoder, ImagePreprocessor preprocessor, int maxImages) {

    /** The model folder's preprocessor with the server's limits. */
    public static ImageInputs of(Path folder, ImageSource source, long maxPixels, int maxImages) {
        Path config = folder.resolve("preprocessor_config.json");
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException(config + ": missing (an image model needs its preprocessor config)");
        }
        return new ImageInputs(source, new ImageDecoder(maxPixels), ImagePreprocessor.read(config), maxImages);
    }

    EngineImage load(String url, String param) {
        try {
            ImagePreprocessor.Pixels px = preprocessor.apply(decoder.decode(source.fetch(url)));
            return new EngineImage(px.chw(), px.height(), px.width());
        } catch (MediaException e) {
            throw ApiException.badRequest("invalid image: " + e.getMessage(), param);
        }
    }
}
