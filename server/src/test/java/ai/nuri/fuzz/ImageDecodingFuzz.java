package ai.nuri.fuzz;

import ai.nuri.media.ImageDecoder;
import ai.nuri.media.MediaException;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any bytes sent as an image decode to pixels within the limit or fail with MediaException, never anything else. */
class ImageDecodingFuzz {
    static final ImageDecoder DECODER = new ImageDecoder(1 << 20);

    @FuzzTest(maxDuration = Fuzzing.BUDGET)
    void decode(byte[] bytes) {
        try {
            DECODER.decode(bytes);
        } catch (MediaException expected) {
            // bad image: a 400 for the client
        }
    }
}
