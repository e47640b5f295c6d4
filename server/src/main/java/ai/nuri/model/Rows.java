package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;

/**
 * Row gathers in one libtorch call. {@code matrix.get(indices)} goes through DJL's general
 * indexer (five native calls: build an index, append, apply, free); an embedding lookup is the
 * same gather as one.
 */
public final class Rows {
    private Rows() {}

    /**
     * @param matrix  [R, C]
     * @param indices INT64 row numbers of any shape S
     * @return [S..., C], the chosen rows
     */
    public static NDArray take(NDArray matrix, NDArray indices) {
        return matrix.getNDArrayInternal().embedding(indices, matrix, SparseFormat.DENSE).singletonOrThrow();
    }
}
