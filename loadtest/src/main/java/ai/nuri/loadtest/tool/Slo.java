package ai.nuri.loadtest.tool;

/** Goodput's service-level objectives, in milliseconds; null where not set. */
record Slo(Double ttftMs, Double tpotMs, Double e2elMs) {
    static final Slo NONE = new Slo(null, null, null);

    /** From vLLM's form: "ttft:500", "tpot:50", "e2el:2000", in any number and order. */
    static Slo parse(java.util.List<String> terms) {
        Double ttft = null;
        Double tpot = null;
        Double e2el = null;
        for (String t : terms) {
            String[] kv = t.split(":");
            if (kv.length != 2) {
                throw new IllegalArgumentException("goodput terms look like ttft:500, tpot:50 or e2el:2000, not '" + t + "'");
            }
            double ms = Double.parseDouble(kv[1]);
            switch (kv[0]) {
                case "ttft" -> ttft = ms;
                case "tpot" -> tpot = ms;
                case "e2el" -> e2el = ms;
                default -> throw new IllegalArgumentException("unknown goodput metric '" + kv[0] + "' (ttft, tpot, e2el)");
            }
        }
        return new Slo(ttft, tpot, e2el);
    }

    boolean isSet() {
        return ttftMs != null || tpotMs != null || e2elMs != null;
    }

    boolean met(Outcome o) {
        if (!o.ok()) {
            return false;
        }
        boolean ok = ttftMs == null || o.ttft() * 1000 <= ttftMs;
        ok &= tpotMs == null || Double.isNaN(o.tpot()) || o.tpot() * 1000 <= tpotMs;
        ok &= e2elMs == null || o.e2el() * 1000 <= e2elMs;
        return ok;
    }
}
