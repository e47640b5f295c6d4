package ai.nuri.text;

import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Lets chat templates call the Python {@code str} methods they use ({@code startswith},
 * {@code strip}, {@code split}, ...) on strings, as Jinja2 in Python allows. Everything else is
 * delegated to Jinjava's own resolver.
 */
final class PythonStringMethods extends ELResolver {
    private final ELResolver delegate = JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY;

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
        if (base instanceof String s && method instanceof String name) {
            Object[] args = params == null ? new Object[0] : params;
            Object result = call(s, name, args);
            if (result != NOT_HANDLED) {
                context.setPropertyResolved(true);
                return result;
            }
        }
        return delegate.invoke(context, base, method, types, params);
    }

    private static final Object NOT_HANDLED = new Object();

    static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> startsOrEnds(s, args[0], true);
            case "endswith" -> startsOrEnds(s, args[0], false);
            case "strip" -> args.length == 0 || args[0] == null ? s.strip() : stripChars(s, str(args[0]), true, true);
            case "lstrip" -> args.length == 0 || args[0] == null ? s.stripLeading() : stripChars(s, str(args[0]), true, false);
            case "rstrip" -> args.length == 0 || args[0] == null ? s.stripTrailing() : stripChars(s, str(args[0]), false, true);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> s.replace(str(args[0]), str(args[1]));
            case "split" -> split(s, args);
            case "find" -> (long) s.indexOf(str(args[0]));
            case "count" -> (long) (s.length() - s.replace(str(args[0]), "").length()) / Math.max(1, str(args[0]).length());
            case "join" -> join(s, args[0]);
            case "isspace" -> !s.isEmpty() && s.isBlank();
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            default -> NOT_HANDLED;
        };
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    private static boolean startsOrEnds(String s, Object prefixes, boolean start) {
        if (prefixes instanceof List<?> list) {
            return list.stream().anyMatch(p -> start ? s.startsWith(str(p)) : s.endsWith(str(p)));
        }
        return start ? s.startsWith(str(prefixes)) : s.endsWith(str(prefixes));
    }

    private static String stripChars(String s, String chars, boolean left, boolean right) {
        int begin = 0;
        int end = s.length();
        while (left && begin < end && chars.indexOf(s.charAt(begin)) >= 0) {
            begin++;
        }
        while (right && end > begin && chars.indexOf(s.charAt(end - 1)) >= 0) {
            end--;
        }
        return s.substring(begin, end);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean startOfWord = true;
        for (char c : s.toCharArray()) {
            sb.append(startOfWord ? Character.toUpperCase(c) : Character.toLowerCase(c));
            startOfWord = !Character.isLetter(c);
        }
        return sb.toString();
    }

    private static List<String> split(String s, Object[] args) {
        if (args.length == 0 || args[0] == null) {
            String trimmed = s.strip();
            return trimmed.isEmpty() ? new ArrayList<>() : new ArrayList<>(Arrays.asList(trimmed.split("\\s+")));
        }
        String sep = str(args[0]);
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String join(String sep, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> it) {
            it.forEach(o -> parts.add(str(o)));
        }
        return String.join(sep, parts);
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return delegate.getValue(context, base, property);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return delegate.getType(context, base, property);
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        delegate.setValue(context, base, property, value);
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return delegate.getFeatureDescriptors(context, base);
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return delegate.getCommonPropertyType(context, base);
    }
}
