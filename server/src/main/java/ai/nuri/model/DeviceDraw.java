package ai.nuri.model;

/**
 * One row's draw made where the logits lie ({@link DeviceSampler}): its filters and the uniform
 * number in [0, 1) that picks the token, drawn by the caller from the row's own random stream (so
 * a seed fixes the draw whatever else is in the batch). {@code topK} 0: no top-k.
 */
public record DeviceDraw(float temperature, int topK, float topP, float minP, double uniform) {
    public DeviceDraw {
        if (!(temperature > 0) || topK < 0 || !(topP > 0 && topP <= 1) || !(minP >= 0 && minP <= 1)
                || !(uniform >= 0 && uniform < 1)) {
            throw new IllegalArgumentException("bad device draw: " + temperature + ", " + topK + ", " + topP + ", " + minP
                    + ", " + uniform);
        }
    }
}
