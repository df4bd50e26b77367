package io.switchboard.options.processor;

import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ImportTree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreePath;
import com.sun.source.util.Trees;

import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.RoundEnvironment;
import javax.annotation.processing.SupportedAnnotationTypes;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.AnnotationValue;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.PackageElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.util.ElementFilter;
import javax.tools.Diagnostic;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the options class of each spec annotated {@code @io.switchboard.runtime.config.GenerateOptions} (see that
 * annotation for the contract). Types are taken as the spec's source writes them, with the spec's imports, so a
 * setting may be of an options class generated in the same round. A spec the processor cannot serve (a setting of a
 * type it has no JSON form for, a name not ending in {@code Spec}) fails the build with an error on that element.
 */
@SupportedAnnotationTypes(OptionsProcessor.GENERATE_OPTIONS)
public final class OptionsProcessor extends AbstractProcessor {

  static final String GENERATE_OPTIONS = "io.switchboard.runtime.config.GenerateOptions";
  static final String READ_BY_HAND = "io.switchboard.runtime.config.ReadByHand";
  static final String RANGE = "io.switchboard.runtime.config.Range";
  static final String FINITE_NON_NEGATIVE = "io.switchboard.runtime.config.FiniteNonNegative";
  private static final String SPEC_SUFFIX = "Spec";

  private Trees trees;

  @Override
  public synchronized void init(ProcessingEnvironment env) {
    super.init(env);
    trees = Trees.instance(env);
  }

  @Override
  public SourceVersion getSupportedSourceVersion() {
    return SourceVersion.latestSupported();
  }

  @Override
  public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
    for (TypeElement annotation : annotations) {
      for (Element element : round.getElementsAnnotatedWith(annotation)) {
        if (element.getKind() != ElementKind.CLASS) {
          error(element, "@GenerateOptions belongs on an abstract class named XSpec");
          continue;
        }
        try {
          generate((TypeElement) element);
        } catch (IOException io) {
          error(element, "could not write the options class: " + io.getMessage());
        }
      }
    }
    return true;
  }

  private void generate(TypeElement spec) throws IOException {
    String specName = spec.getSimpleName().toString();
    if (!specName.endsWith(SPEC_SUFFIX) || specName.length() == SPEC_SUFFIX.length()
        || !spec.getModifiers().contains(Modifier.ABSTRACT)) {
      error(spec, "an options spec is an abstract class named XSpec (the processor writes X), got " + specName);
      return;
    }
    String name = specName.substring(0, specName.length() - SPEC_SUFFIX.length());
    String pkg = ((PackageElement) spec.getEnclosingElement()).getQualifiedName().toString();
    boolean json = annotationFlag(spec, GENERATE_OPTIONS, "json", true);

    List<Setting> settings = new ArrayList<>();
    boolean servable = true;
    for (VariableElement field : ElementFilter.fieldsIn(spec.getEnclosedElements())) {
      Set<Modifier> modifiers = field.getModifiers();
      if (modifiers.contains(Modifier.STATIC) || modifiers.contains(Modifier.TRANSIENT)) {
        continue;
      }
      VariableTree tree = (VariableTree) trees.getTree(field);
      String type = tree.getType().toString();
      boolean byHand = hasAnnotation(field, READ_BY_HAND);
      SettingKind kind = SettingKind.of(type);
      if (modifiers.contains(Modifier.PRIVATE)) {
        error(field, "a setting must not be private (the generated " + name + " reads and writes it); make it "
            + "package-private, or transient if it is not a setting");
        servable = false;
      } else if (kind == null && json && !byHand) {
        error(field, "no JSON form for a setting of type " + type + ": mark it @ReadByHand and read and write it in "
            + "readJson/writeJson");
        servable = false;
      }
      String doc = processingEnv.getElementUtils().getDocComment(field);
      settings.add(new Setting(field.getSimpleName().toString(), type, kind, json && !byHand, doc, checks(field)));
    }
    ExecutableElement validate = validateMethod(spec);
    Set<String> declared = new java.util.HashSet<>();
    for (ExecutableElement method : ElementFilter.methodsIn(spec.getEnclosedElements())) {
      declared.add(method.getSimpleName() + "/" + method.getParameters().size());
    }
    boolean anyByHand = settings.stream().anyMatch(setting -> !setting.inJson());
    if (json && anyByHand && !(declared.contains("readJson/1") && declared.contains("writeJson/1"))) {
      error(spec, "a spec with @ReadByHand settings declares protected void readJson(JsonObject) and protected void "
          + "writeJson(JsonObject)");
      servable = false;
    }
    if (!servable) {
      return;
    }

    OptionsSource source = new OptionsSource(pkg, name, specName, imports(spec));
    // null: the spec has no checks of its own, and the generated validate is all there is
    String validateAccess = validate == null ? null : validate.getModifiers().contains(Modifier.PUBLIC) ? "public "
        : validate.getModifiers().contains(Modifier.PROTECTED) ? "protected " : "";
    String text = source.render(settings, json, declared.contains("readJson/1"), declared.contains("writeJson/1"),
        declared, validateAccess);
    try (Writer out = processingEnv.getFiler().createSourceFile(pkg + "." + name, spec).openWriter()) {
      out.write(text);
    }
  }

  /** The Java of the range checks a field's annotations ask for, in the order written. */
  private static List<String> checks(VariableElement field) {
    List<String> checks = new ArrayList<>();
    String name = field.getSimpleName().toString();
    String key = "path + \"." + name + "\"";
    AnnotationMirror range = find(field, RANGE);
    if (range != null) {
      long min = ((Number) value(range, "min", 0L)).longValue();
      long max = ((Number) value(range, "max", Long.MAX_VALUE)).longValue();
      String meaning = quoted((String) value(range, "meaning", ""));
      checks.add(max == Long.MAX_VALUE
          ? "io.switchboard.runtime.config.OptionChecks.atLeast(" + key + ", " + name + ", " + min + "L, " + meaning
              + ");"
          : "io.switchboard.runtime.config.OptionChecks.between(" + key + ", " + name + ", " + min + "L, " + max
              + "L, " + meaning + ");");
    }
    AnnotationMirror finite = find(field, FINITE_NON_NEGATIVE);
    if (finite != null) {
      checks.add("io.switchboard.runtime.config.OptionChecks.finiteNonNegative(" + key + ", " + name + ", "
          + quoted((String) value(finite, "meaning", "")) + ");");
    }
    return checks;
  }

  private static ExecutableElement validateMethod(TypeElement spec) {
    for (ExecutableElement method : ElementFilter.methodsIn(spec.getEnclosedElements())) {
      if (method.getSimpleName().contentEquals("validate") && method.getParameters().size() == 1
          && method.getParameters().get(0).asType().toString().equals("java.lang.String")) {
        return method;
      }
    }
    return null;
  }

  private static Object value(AnnotationMirror mirror, String member, Object fallback) {
    for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> entry
        : mirror.getElementValues().entrySet()) {
      if (entry.getKey().getSimpleName().contentEquals(member)) {
        return entry.getValue().getValue();
      }
    }
    return fallback;
  }

  private static String quoted(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private List<String> imports(TypeElement spec) {
    TreePath path = trees.getPath(spec);
    CompilationUnitTree unit = path.getCompilationUnit();
    List<String> imports = new ArrayList<>();
    for (ImportTree importTree : unit.getImports()) {
      imports.add((importTree.isStatic() ? "static " : "") + importTree.getQualifiedIdentifier());
    }
    return imports;
  }

  private static boolean hasAnnotation(Element element, String type) {
    return find(element, type) != null;
  }

  private static boolean annotationFlag(Element element, String type, String member, boolean fallback) {
    AnnotationMirror mirror = find(element, type);
    return mirror == null ? fallback : (Boolean) value(mirror, member, fallback);
  }

  private static AnnotationMirror find(Element element, String type) {
    for (AnnotationMirror mirror : element.getAnnotationMirrors()) {
      if (((TypeElement) mirror.getAnnotationType().asElement()).getQualifiedName().contentEquals(type)) {
        return mirror;
      }
    }
    return null;
  }

  private void error(Element element, String message) {
    processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR, message, element);
  }
}
