package io.switchboard.options.processor;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Compiles specs with the real javac and this processor, then uses the classes it wrote. */
class OptionsProcessorTest {

  private static final String INNER = """
      package sample;
      import io.switchboard.runtime.config.GenerateOptions;
      @GenerateOptions
      public abstract class InnerOptionsSpec {
        String label = "inner";
      }
      """;

  private static final String OUTER = """
      package sample;
      import io.switchboard.runtime.config.FiniteNonNegative;
      import io.switchboard.runtime.config.GenerateOptions;
      import io.switchboard.runtime.config.Range;
      import io.switchboard.runtime.config.ReadByHand;
      import io.vertx.core.json.JsonObject;
      import java.util.ArrayList;
      import java.util.LinkedHashMap;
      import java.util.LinkedHashSet;
      import java.util.List;
      import java.util.Map;
      import java.util.Set;
      @GenerateOptions
      public abstract class OuterOptionsSpec {
        public static final int DEFAULT_PORT = 80;
        /** The port it listens on. */
        @Range(min = 1, max = 65535)
        int port = DEFAULT_PORT;
        @Range(min = 0, meaning = " (0 = no limit)")
        long timeoutMs = 1000;
        @FiniteNonNegative
        double weight = 0.5;
        boolean enabled = true;
        String host;
        List<String> names = new ArrayList<>();
        Set<String> roles = new LinkedHashSet<>();
        InnerOptions inner = new InnerOptions();
        List<InnerOptions> inners = new ArrayList<>();
        String level = "info";
        @ReadByHand
        Map<String, String> tags = new LinkedHashMap<>();
        private transient int reads;
        public OuterOptions setHost(String host) {
          this.host = host == null ? null : host.trim();
          return (OuterOptions) this;
        }
        public String getLevel() {
          return level.toUpperCase();
        }
        public int reads() {
          return reads;
        }
        public void validate(String path) {
          if (host != null && host.isEmpty()) {
            throw new IllegalArgumentException(path + ".host is empty");
          }
        }
        protected void readJson(JsonObject json) {
          reads++;
          JsonObject given = json.getJsonObject("tags", new JsonObject());
          given.forEach(entry -> tags.put(entry.getKey(), String.valueOf(entry.getValue())));
        }
        protected void writeJson(JsonObject json) {
          json.put("tags", new JsonObject(new LinkedHashMap<>(tags)));
        }
      }
      """;

  @TempDir
  Path dir;

  @Test
  void generatedOptionsReadWriteAndCopyEverySetting() throws Exception {
    try (URLClassLoader loader = compileSamples()) {
      Class<?> outer = loader.loadClass("sample.OuterOptions");
      JsonObject given = new JsonObject()
          .put("port", 8080).put("timeoutMs", 5).put("weight", 2).put("enabled", false).put("host", " h1 ")
          .put("names", new JsonArray().add("a").add("b")).put("roles", new JsonArray().add("x").add("x"))
          .put("inner", new JsonObject().put("label", "one"))
          .put("inners", new JsonArray().add(new JsonObject().put("label", "two")))
          .put("level", "debug").put("tags", new JsonObject().put("k", "v"))
          .put("unknown", 1);
      Object options = outer.getConstructor(JsonObject.class).newInstance(given);

      assertThat(call(options, "getPort")).isEqualTo(8080);
      assertThat(call(options, "getTimeoutMs")).isEqualTo(5L);
      assertThat(call(options, "getWeight")).isEqualTo(2.0);
      assertThat(call(options, "isEnabled")).isEqualTo(false);
      assertThat(call(options, "getHost")).as("the spec's own setter is used").isEqualTo("h1");
      assertThat(call(options, "getLevel")).as("the spec's own getter is kept").isEqualTo("DEBUG");
      assertThat(call(options, "reads")).as("readJson runs once").isEqualTo(1);

      JsonObject written = (JsonObject) call(options, "toJson");
      assertThat(written.fieldNames()).containsExactly("tags", "port", "timeoutMs", "weight", "enabled", "host",
          "names", "roles", "inner", "inners", "level");
      assertThat(written.getJsonArray("roles")).isEqualTo(new JsonArray().add("x"));
      assertThat(written.getJsonObject("inner")).isEqualTo(new JsonObject().put("label", "one"));
      assertThat(written.getJsonArray("inners")).isEqualTo(new JsonArray().add(new JsonObject().put("label", "two")));
      assertThat(written.getJsonObject("tags")).isEqualTo(new JsonObject().put("k", "v"));
      assertThat(written.getString("level")).as("written from the field, not the getter").isEqualTo("debug");

      Object defaults = outer.getConstructor().newInstance();
      JsonObject unset = (JsonObject) call(defaults, "toJson");
      assertThat(unset.containsKey("host")).as("an unset setting keeps its key").isTrue();
      assertThat(unset.getValue("host")).isNull();
      assertThat(unset.getInteger("port")).isEqualTo(80);

      Object wrongTypes = outer.getConstructor(JsonObject.class).newInstance(new JsonObject().put("port", "eighty")
          .put("names", "a,b"));
      assertThat(call(wrongTypes, "getPort")).as("a value of another type is the loader's to refuse").isEqualTo(80);

      List<String> mine = new ArrayList<>(List.of("a"));
      outer.getMethod("setNames", List.class).invoke(defaults, mine);
      mine.add("b");
      assertThat(call(defaults, "getNames")).as("a setter keeps a copy").isEqualTo(List.of("a"));
      assertThat(outer.getMethod("setPort", int.class).invoke(defaults, 1)).as("setters are fluent").isSameAs(defaults);
    }
  }

  @Test
  void declaredRangesAreCheckedBeforeTheSpecsOwnChecks() throws Exception {
    try (URLClassLoader loader = compileSamples()) {
      Class<?> outer = loader.loadClass("sample.OuterOptions");
      java.lang.reflect.Method validate = outer.getMethod("validate", String.class);
      validate.invoke(outer.getConstructor().newInstance(), "s");
      assertThat(refusal(validate, outer, new JsonObject().put("port", 0)))
          .isEqualTo("s.port must be between 1 and 65535, got 0");
      assertThat(refusal(validate, outer, new JsonObject().put("timeoutMs", -1)))
          .isEqualTo("s.timeoutMs must be >= 0 (0 = no limit), got -1");
      assertThat(refusal(validate, outer, new JsonObject().put("weight", -0.5)))
          .isEqualTo("s.weight must be a finite number >= 0, got -0.5");
      assertThat(refusal(validate, outer, new JsonObject().put("host", "")))
          .as("the spec's own checks still run").isEqualTo("s.host is empty");
    }
  }

  private static String refusal(java.lang.reflect.Method validate, Class<?> type, JsonObject json)
      throws ReflectiveOperationException {
    try {
      validate.invoke(type.getConstructor(JsonObject.class).newInstance(json), "s");
      return "accepted";
    } catch (java.lang.reflect.InvocationTargetException refused) {
      return refused.getCause().getMessage();
    }
  }

  @Test
  void aSpecTheProcessorCannotServeFailsTheBuildNamingTheField() throws Exception {
    String spec = """
        package sample;
        import io.switchboard.runtime.config.GenerateOptions;
        import java.util.Map;
        @GenerateOptions
        public abstract class BadOptionsSpec {
          private int hidden;
          Map<String, Integer> table;
        }
        """;
    List<String> errors = compile(Map.of("sample/BadOptionsSpec.java", spec)).errors();
    assertThat(errors).anySatisfy(error -> assertThat(error).contains("a setting must not be private"));
    assertThat(errors).anySatisfy(error -> assertThat(error).contains("no JSON form for a setting of type "
        + "Map<String, Integer>").contains("@ReadByHand"));
  }

  @Test
  void aSpecMustBeAnAbstractClassNamedSpecWithItsHooks() throws Exception {
    String misnamed = """
        package sample;
        @io.switchboard.runtime.config.GenerateOptions
        public abstract class Misnamed {
        }
        """;
    String hookless = """
        package sample;
        @io.switchboard.runtime.config.GenerateOptions
        public abstract class HooklessOptionsSpec {
          @io.switchboard.runtime.config.ReadByHand
          java.util.Map<String, String> tags;
        }
        """;
    List<String> errors = compile(Map.of("sample/Misnamed.java", misnamed, "sample/HooklessOptionsSpec.java",
        hookless)).errors();
    assertThat(errors).anySatisfy(error -> assertThat(error).contains("abstract class named XSpec"));
    assertThat(errors).anySatisfy(error -> assertThat(error).contains("declares protected void readJson"));
  }

  private record Compilation(Path classes, List<String> errors) {
  }

  /** INNER and OUTER compiled with the processor, in a loader of their own. */
  private URLClassLoader compileSamples() throws IOException {
    Compilation compiled = compile(Map.of("sample/InnerOptionsSpec.java", INNER, "sample/OuterOptionsSpec.java",
        OUTER));
    assertThat(compiled.errors()).isEmpty();
    return new URLClassLoader(new URL[] {compiled.classes().toUri().toURL()}, getClass().getClassLoader());
  }

  private Compilation compile(Map<String, String> sources) throws IOException {
    Path src = Files.createDirectories(dir.resolve("src"));
    Path classes = Files.createDirectories(dir.resolve("classes"));
    List<Path> files = new ArrayList<>();
    for (Map.Entry<String, String> source : sources.entrySet()) {
      Path file = src.resolve(source.getKey());
      Files.createDirectories(file.getParent());
      Files.writeString(file, source.getValue());
      files.add(file);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fileManager = javac.getStandardFileManager(diagnostics, null, null)) {
      JavaCompiler.CompilationTask task = javac.getTask(null, fileManager, diagnostics,
          List.of("-d", classes.toString(), "-s", classes.toString(), "-classpath",
              System.getProperty("java.class.path"), "-implicit:class"),
          null, fileManager.getJavaFileObjectsFromPaths(files));
      task.setProcessors(List.of(new OptionsProcessor()));
      task.call();
    }
    List<String> errors = diagnostics.getDiagnostics().stream()
        .filter(diagnostic -> diagnostic.getKind() == Diagnostic.Kind.ERROR)
        .map(diagnostic -> diagnostic.getMessage(null))
        .collect(Collectors.toList());
    return new Compilation(classes, errors);
  }

  private static Object call(Object target, String method) throws ReflectiveOperationException {
    return target.getClass().getMethod(method).invoke(target);
  }
}
