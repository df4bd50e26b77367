package io.switchboard.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/configuration.md checked against the options themselves: every setting of {@code new NodeOptions().toJson()}
 * (the first worker's included) has an environment variable and a row with its key, its default and that variable;
 * and every row names a setting that exists. A setting added to an options class without a row fails here, and so
 * does a row left behind by a removed one.
 */
class ConfigurationReferenceTest {

  private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");
  private static final Pattern CODE = Pattern.compile("`([^`]*)`");

  /** One row of a settings table: its key as written (maybe relative to the table's section), default, variables. */
  private record Row(int line, String key, String defaultCell, List<String> variables) {
  }

  private static List<Row> rows;
  private static Map<String, String> settings;
  private static JsonObject defaults;

  @BeforeAll
  static void readReference() throws IOException {
    defaults = new NodeOptions().toJson();
    settings = NodeConfigLoader.environmentNames(defaults);
    rows = settingRows(Files.readAllLines(REFERENCE));
  }

  @Test
  void everySettingHasAVariableAndADocumentedRow() {
    assertThat(settings).hasSizeGreaterThan(100);
    List<String> problems = new ArrayList<>();
    settings.forEach((variable, path) -> {
      assertThat(variable).isEqualTo(NodeConfigLoader.envName(path));
      Row row = rowFor(variable);
      if (row == null) {
        problems.add(path + ": no row in docs/configuration.md with " + documented(variable));
        return;
      }
      String key = row.key().replace("[N]", ".0");
      if (!(path.equals(key) || path.endsWith("." + key))) {
        problems.add(path + ": its row (line " + row.line() + ") is for key '" + row.key() + "'");
      }
      String defaultProblem = defaultProblem(valueAt(path), row.defaultCell());
      if (defaultProblem != null) {
        problems.add(path + ": line " + row.line() + " " + defaultProblem);
      }
    });
    assertThat(problems).as("settings docs/configuration.md does not document as they are").isEmpty();
  }

  @Test
  void everyDocumentedSettingExists() {
    List<String> unknown = rows.stream()
        .filter(row -> row.variables().stream().noneMatch(ConfigurationReferenceTest::namesASetting))
        .map(row -> "line " + row.line() + ": " + row.key() + " " + row.variables())
        .toList();
    assertThat(rows).hasSizeGreaterThan(100);
    assertThat(unknown).as("rows of docs/configuration.md whose variable no setting has").isEmpty();
  }

  /** The rows of every table whose header is {@code key | default | environment ...}. */
  private static List<Row> settingRows(List<String> lines) {
    List<Row> found = new ArrayList<>();
    boolean inSettings = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (!line.startsWith("|")) {
        inSettings = false;
        continue;
      }
      String[] cells = line.split("(?<!\\\\)\\|");
      if (cells.length < 4) {
        continue;
      }
      if (cells[1].trim().equals("key")) {
        inSettings = cells[3].trim().equals("environment");
        continue;
      }
      if (!inSettings || cells[1].trim().startsWith("---")) {
        continue;
      }
      Matcher key = CODE.matcher(cells[1]);
      if (!key.find()) {
        continue;
      }
      List<String> variables = CODE.matcher(cells[3]).results().map(m -> m.group(1))
          .filter(v -> v.startsWith(NodeConfigLoader.ENV_PREFIX)).toList();
      found.add(new Row(i + 1, key.group(1), cells[2].trim(), variables));
    }
    return found;
  }

  /** The row naming {@code variable} (its worker index written as N, a list entry's as M). */
  private static Row rowFor(String variable) {
    for (Row row : rows) {
      for (String documented : row.variables()) {
        if (asFirstWorker(documented).equals(variable)) {
          return row;
        }
      }
    }
    // A list of mappings (workers[N].llamacpp.models) is documented by its entries' variables.
    for (Row row : rows) {
      for (String documented : row.variables()) {
        String form = asFirstWorker(documented);
        if (form.contains("<") && form.startsWith(variable + "_")) {
          return row;
        }
      }
    }
    return null;
  }

  private static boolean namesASetting(String documented) {
    String form = asFirstWorker(documented);
    if (NodeConfigLoader.ENV_ALIASES.containsKey(form) || settings.containsKey(form)) {
      return true;
    }
    return form.contains("<") && settings.keySet().stream().anyMatch(v -> form.startsWith(v + "_"));
  }

  private static String asFirstWorker(String documented) {
    return documented.replace("_WORKERS_N_", "_WORKERS_0_");
  }

  private static String documented(String variable) {
    return variable.replace("_WORKERS_0_", "_WORKERS_N_");
  }

  private static Object valueAt(String path) {
    Object node = defaults;
    for (String segment : path.split("\\.")) {
      node = node instanceof JsonArray array ? array.getValue(Integer.parseInt(segment))
          : ((JsonObject) node).getValue(segment);
    }
    return node;
  }

  /**
   * Null when the default cell says the default: an unset setting's cell begins with words ("none", "unset", ...);
   * a set one's first code span is its value (numbers compared as numbers, lists and mappings without spaces).
   */
  static String defaultProblem(Object value, String cell) {
    Matcher code = CODE.matcher(cell);
    if (value == null) {
      return cell.startsWith("`") ? "gives default " + cell + ", but the setting is unset by default" : null;
    }
    if (!cell.startsWith("`") || !code.find()) {
      return "gives no default in code, expected " + shown(value);
    }
    String given = code.group(1);
    if (value instanceof Number number) {
      try {
        return Double.parseDouble(given) == number.doubleValue() ? null
            : "gives default " + given + ", expected " + shown(value);
      } catch (NumberFormatException notANumber) {
        return "gives default " + given + ", expected the number " + shown(value);
      }
    }
    return given.replace(" ", "").equals(shown(value).replace(" ", "")) ? null
        : "gives default " + given + ", expected " + shown(value);
  }

  private static String shown(Object value) {
    if (value instanceof JsonArray array) {
      return array.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
    }
    if (value instanceof JsonObject object) {
      return object.isEmpty() ? "{}" : object.encode();
    }
    return String.valueOf(value);
  }
}
