package ai.nuri.loadtest;

import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import net.bytebuddy.agent.ByteBuddyAgent;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.matcher.ElementMatchers;

/**
 * Counts calls from Java into libtorch: every call site of DJL's native {@code PyTorchLibrary}
 * in DJL's PyTorch engine gets a {@link #tick} before it, by name. Counting is off unless
 * {@link #start} was called, so timed runs pay one static read per call. Must be installed
 * before any DJL PyTorch class loads.
 */
public final class JniCounter {
    private static final String NATIVE_OWNER = "ai/djl/pytorch/jni/PyTorchLibrary";
    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();
    private static volatile boolean counting;
    /** {@code -Djni.trace=torchSizes}: also count that native method by its Java callers, to find where it comes from. */
    private static final String TRACED = System.getProperty("jni.trace");
    private static boolean installed;

    private JniCounter() {}

    /** Instruments DJL's PyTorch engine; idempotent. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        Instrumentation instrumentation = ByteBuddyAgent.install();
        new AgentBuilder.Default()
                .disableClassFormatChanges()
                .type(ElementMatchers.nameStartsWith("ai.djl.pytorch."))
                .transform((builder, type, loader, module, domain) -> builder.visit(
                        new AsmVisitorWrapper.ForDeclaredMethods().invokable(ElementMatchers.any(),
                                (instrumentedType, method, visitor, context, pool, flags, readerFlags) ->
                                        new TickBeforeNativeCall(visitor))))
                .installOn(instrumentation);
        installed = true;
    }

    public static void start() {
        COUNTS.clear();
        counting = true;
    }

    /** Stops counting; the calls since {@link #start}, by native method name. */
    public static Map<String, Long> stop() {
        counting = false;
        Map<String, Long> out = new TreeMap<>();
        COUNTS.forEach((name, n) -> out.put(name, n.sum()));
        return out;
    }

    /** Called before each native call (inserted by {@link #install}). */
    public static void tick(String name) {
        if (counting) {
            COUNTS.computeIfAbsent(name, k -> new LongAdder()).increment();
            if (name.equals(TRACED)) {
                COUNTS.computeIfAbsent(name + " from " + callers(), k -> new LongAdder()).increment();
            }
        }
    }

    private static String callers() {
        StringBuilder out = new StringBuilder();
        StackTraceElement[] stack = new Throwable().getStackTrace();
        for (int i = 2; i < Math.min(stack.length, 10); i++) {
            String type = stack[i].getClassName();
            out.append(i > 2 ? " < " : "").append(type.substring(type.lastIndexOf('.') + 1)).append('.')
                    .append(stack[i].getMethodName());
        }
        return out.toString();
    }

    private static final class TickBeforeNativeCall extends MethodVisitor {
        TickBeforeNativeCall(MethodVisitor delegate) {
            super(Opcodes.ASM9, delegate);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            if (owner.equals(NATIVE_OWNER) && opcode == Opcodes.INVOKEVIRTUAL) {
                super.visitLdcInsn(name);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, "ai/nuri/loadtest/JniCounter", "tick",
                        "(Ljava/lang/String;)V", false);
            }
            super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(maxStack + 1, maxLocals);
        }
    }
}
