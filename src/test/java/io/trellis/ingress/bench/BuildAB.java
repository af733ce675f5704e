package io.trellis.ingress.bench;

import java.lang.annotation.Annotation;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One JMH benchmark method of two builds in one JVM, in alternating slices: the CPU time this
 * thread spends per call ({@code ThreadMXBean}, user and kernel) under build A and under build B.
 * Each build's classes are loaded by a class loader of its own, so both are compiled by the same
 * JIT in the same process, and the slices alternate every fraction of a second, so whatever the
 * shared host does at a moment falls on both. On this bench's two shared cores, separate JMH runs
 * of the same code have differed by 20% and a service-level {@code --compare} by more; two builds'
 * medians here move by a few percent from run to run.
 *
 * <p>Each loader reads {@code A} (or {@code B}) first, then the shared path, which holds the
 * benchmark classes and the libraries: a build's jar or classes directory decides which of the
 * service's classes the benchmark runs. The benchmark's {@code @Setup} methods run once, before the
 * first slice, with each {@code @Param} field set to its first value unless {@code name=value} says
 * otherwise; a {@code Blackhole} parameter gets one. Not a test.
 *
 * <pre>
 *   java -cp target/test-classes:$(cat target/bench-classpath.txt) io.trellis.ingress.bench.BuildAB \
 *     A B SHARED_PATH CaptureBenchmark.pixel [slices] [name=value...]
 * </pre>
 */
public final class BuildAB {
  private static final long SLICE_NANOS = 200_000_000L;
  private static final int WARM_SLICES = 15;
  private static final int CALLS_PER_CHECK = 100;

  private BuildAB() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println(
          "usage: BuildAB A B SHARED_PATH Benchmark.method [slices] [name=value...]");
      System.exit(2);
    }
    String[] target = args[3].split("\\.");
    String className = "io.trellis.ingress.bench." + target[0];
    int slices = args.length > 4 ? Integer.parseInt(args[4]) : 100;
    Map<String, String> params = new HashMap<>();
    for (int i = 5; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      params.put(kv[0], kv[1]);
    }
    Build[] builds = {
      new Build("A", args[0], args[2], className, target[1], params),
      new Build("B", args[1], args[2], className, target[1], params)
    };
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (int s = 0; s < WARM_SLICES + slices; s++) {
      // A then B on even slices, B then A on odd ones: neither always follows the other.
      for (int k = 0; k < 2; k++) {
        Build b = builds[(s + k) % 2];
        double nanos = b.slice(threads);
        if (s >= WARM_SLICES) {
          b.perCall.add(nanos);
        }
      }
    }
    double a = median(builds[0].perCall);
    double b = median(builds[1].perCall);
    System.out.printf(
        "%s, %d slices of %d ms each after %d of warm-up; CPU ns per call:%n",
        args[3], slices, SLICE_NANOS / 1_000_000, WARM_SLICES);
    for (Build build : builds) {
      List<Double> v = build.perCall;
      System.out.printf(
          "  %s %-50s median %9.1f  quartiles %9.1f %9.1f%n",
          build.name, build.path, median(v), quantile(v, 0.25), quantile(v, 0.75));
    }
    System.out.printf("  B / A: %.3f%n", b / a);
    builds[0].tearDown();
    builds[1].tearDown();
  }

  /** One build's copy of the benchmark, and what its slices measured. */
  private static final class Build {
    final String name;
    final String path;
    final Object state;
    final Method method;
    final Object[] arguments;
    final List<Double> perCall = new ArrayList<>();
    final ClassLoader loader;
    volatile Object sink;

    Build(
        String name,
        String path,
        String shared,
        String className,
        String methodName,
        Map<String, String> params)
        throws Exception {
      this.name = name;
      this.path = path;
      List<URL> urls = new ArrayList<>();
      urls.add(Path.of(path).toUri().toURL());
      for (String p : shared.split(":")) {
        if (!p.isEmpty()) {
          urls.add(Path.of(p).toUri().toURL());
        }
      }
      loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
      Class<?> c = Class.forName(className, true, loader);
      var ctor = c.getDeclaredConstructor();
      ctor.setAccessible(true);
      state = ctor.newInstance();
      setParams(c, params);
      Object blackhole = blackhole();
      for (Method m : c.getDeclaredMethods()) {
        if (annotated(m, "org.openjdk.jmh.annotations.Setup")) {
          m.setAccessible(true);
          m.invoke(state, argumentsFor(m, blackhole));
        }
      }
      method =
          Arrays.stream(c.getDeclaredMethods())
              .filter(m -> m.getName().equals(methodName))
              .findFirst()
              .orElseThrow(() -> new IllegalArgumentException("no method " + methodName));
      method.setAccessible(true);
      arguments = argumentsFor(method, blackhole);
    }

    /** Calls the method for one slice's time; the CPU time per call, in nanoseconds. */
    double slice(ThreadMXBean threads) throws Exception {
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      long calls = 0;
      Object last = null;
      while (System.nanoTime() - wall0 < SLICE_NANOS) {
        for (int i = 0; i < CALLS_PER_CHECK; i++) {
          last = method.invoke(state, arguments);
        }
        calls += CALLS_PER_CHECK;
      }
      sink = last;
      return (threads.getCurrentThreadCpuTime() - cpu0) / (double) calls;
    }

    void tearDown() throws Exception {
      for (Method m : state.getClass().getDeclaredMethods()) {
        if (annotated(m, "org.openjdk.jmh.annotations.TearDown")) {
          m.setAccessible(true);
          m.invoke(state);
        }
      }
    }

    private void setParams(Class<?> c, Map<String, String> params) throws Exception {
      for (Field f : c.getDeclaredFields()) {
        Annotation param = annotation(f.getAnnotations(), "org.openjdk.jmh.annotations.Param");
        if (param == null || Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        String[] values = (String[]) param.annotationType().getMethod("value").invoke(param);
        String v = params.getOrDefault(f.getName(), values.length > 0 ? values[0] : null);
        f.setAccessible(true);
        Class<?> t = f.getType();
        if (t == String.class) {
          f.set(state, v);
        } else if (t == int.class) {
          f.setInt(state, Integer.parseInt(v));
        } else if (t == long.class) {
          f.setLong(state, Long.parseLong(v));
        } else if (t == boolean.class) {
          f.setBoolean(state, Boolean.parseBoolean(v));
        } else {
          throw new IllegalArgumentException("@Param of type " + t + ": " + f.getName());
        }
      }
    }

    private Object blackhole() throws Exception {
      Class<?> c = Class.forName("org.openjdk.jmh.infra.Blackhole", true, loader);
      // JMH's own constructor check: the string says the caller takes on what JMH guards against.
      return c.getConstructor(String.class)
          .newInstance(
              "Today's password is swordfish. I understand instantiating Blackholes directly is"
                  + " dangerous.");
    }

    private static Object[] argumentsFor(Method m, Object blackhole) {
      Class<?>[] types = m.getParameterTypes();
      Object[] out = new Object[types.length];
      for (int i = 0; i < types.length; i++) {
        if (!types[i].getName().equals("org.openjdk.jmh.infra.Blackhole")) {
          throw new IllegalArgumentException(m.getName() + " takes a " + types[i].getName());
        }
        out[i] = blackhole;
      }
      return out;
    }
  }

  private static boolean annotated(Method m, String name) {
    return annotation(m.getAnnotations(), name) != null;
  }

  private static Annotation annotation(Annotation[] annotations, String name) {
    for (Annotation a : annotations) {
      if (a.annotationType().getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  private static double median(List<Double> v) {
    return quantile(v, 0.5);
  }

  private static double quantile(List<Double> v, double q) {
    double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return s[(int) Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
  }
}
