package io.switchboard.worker;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.Range;
import io.switchboard.worker.llamacpp.LlamaCppOptions;
import io.switchboard.worker.mocker.MockerOptions;
import io.switchboard.worker.openai.OpenAiOptions;
import io.switchboard.worker.runner.RunnerSettings;

import java.util.Set;
import java.util.UUID;

/** Settings of one worker: which model it serves, with which engine, and how much work it takes at once. */
@GenerateOptions
public abstract class WorkerOptionsSpec implements RunnerSettings {

  public static final String DEFAULT_MODEL = "mock-llm";
  public static final Set<String> ENGINES = Set.of("mocker", "llamacpp", "openai");
  /** Generations that run at once; more queue. */
  public static final int DEFAULT_SLOTS = 8;
  /** Generations that may wait for a slot; past this the worker refuses (the gateway tries another). */
  public static final int DEFAULT_MAX_QUEUE = 64;
  public static final int DEFAULT_CONTEXT_LENGTH = 8192;
  /** How long a stopping worker lets in-flight generations finish before failing them. */
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

  String id;
  String model = DEFAULT_MODEL;
  String engine = "mocker";
  @Range(min = 1)
  int slots = DEFAULT_SLOTS;
  @Range(min = 0)
  int maxQueue = DEFAULT_MAX_QUEUE;
  @Range(min = 16)
  int contextLength = DEFAULT_CONTEXT_LENGTH;
  @Range(min = 100)
  long loadReportIntervalMs = 1000;
  @Range(min = 0)
  long drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;
  MockerOptions mocker = new MockerOptions();
  LlamaCppOptions llamacpp = new LlamaCppOptions();
  OpenAiOptions openai = new OpenAiOptions();

  /** Fails with a message naming the key under {@code path} (e.g. {@code workers[0]}) and what it accepts. */
  public void validate(String path) {
    OptionChecks.notBlank(path + ".model", model, "a non-empty model name");
    OptionChecks.oneOf(path + ".engine", engine, ENGINES);
    if (id != null && !id.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(path + ".id must be 1-64 characters of letters, digits, '.', '_' or '-', "
          + "got '" + id + "'");
    }
    mocker.validate(path + ".mocker");
    if ("llamacpp".equals(engine)) {
      llamacpp.validate(path + ".llamacpp");
    }
    if ("openai".equals(engine)) {
      if (!DEFAULT_MODEL.equals(model)) {
        throw new IllegalArgumentException(path + ".model is not used by the openai engine: it serves the models "
            + "its backend lists at /v1/models. Use " + path + ".openai.models to choose among them and "
            + path + ".openai.aliases (BACKEND_NAME=SERVED_NAME) to rename them");
      }
      openai.validate(path + ".openai");
    }
    if ("llamacpp".equals(engine) && llamacpp.servesDirectory() && !DEFAULT_MODEL.equals(model)) {
      throw new IllegalArgumentException(path + ".model is not used by a worker over a model directory: it serves "
          + "every GGUF file in " + path + ".llamacpp.modelsDir by its file name without .gguf. Use "
          + path + ".llamacpp.models[M].aliases for other names");
    }
  }

  /**
   * The configured id, or a fresh one made of the model name (an openai worker: its backend's host and port)
   * and a random suffix.
   */
  public String resolveId() {
    if (id == null) {
      String base = "openai".equals(engine) ? "openai-" + openai.baseUri().getHost() + "-" + openai.baseUri().getPort()
          : servesDirectory() ? "models-" + java.nio.file.Path.of(llamacpp.getModelsDir()).toAbsolutePath().normalize()
              .getFileName() : model;
      id = base.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
    return id;
  }

  /**
   * The model the worker announces: its configured one, or none for an engine that learns its models (openai) or
   * serves a model directory (its models are in its record's and load reports' catalog).
   */
  @Override
  public String announcedModel() {
    return "openai".equals(engine) || servesDirectory() ? "" : model;
  }

  /** A llamacpp worker over a model directory. */
  public boolean servesDirectory() {
    return "llamacpp".equals(engine) && llamacpp.servesDirectory();
  }
}
