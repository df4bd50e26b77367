package io.switchboard.worker.llamacpp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ModelDirectoryTest {

  @TempDir
  Path dir;

  private void write(String name, int bytes) throws Exception {
    Files.write(dir.resolve(name), new byte[bytes]);
  }

  @Test
  void everyGgufFileIsAModelNamedByItsFileAndProjectorsAndOtherFilesAreSkipped() throws Exception {
    write("qwen-7b.gguf", 30);
    write("Llama.GGUF", 20);
    write("mmproj-qwen.gguf", 5);
    write("notes.txt", 5);
    Files.createDirectory(dir.resolve("sub.gguf"));

    ModelDirectory.Scan scan = ModelDirectory.scan(dir, 10);

    assertThat(scan.files()).extracting(ModelLibrary.ModelFile::name).containsExactly("Llama", "qwen-7b");
    assertThat(scan.files().get(1).sizeBytes()).isEqualTo(30);
    assertThat(scan.total()).isEqualTo(2);
  }

  @Test
  void aSplitModelIsOneModelTheSizeOfItsParts() throws Exception {
    write("big-00001-of-00002.gguf", 10);
    write("big-00002-of-00002.gguf", 7);

    ModelDirectory.Scan scan = ModelDirectory.scan(dir, 10);

    assertThat(scan.files()).hasSize(1);
    assertThat(scan.files().get(0).name()).isEqualTo("big");
    assertThat(scan.files().get(0).sizeBytes()).isEqualTo(17);
    assertThat(scan.files().get(0).path().getFileName().toString()).isEqualTo("big-00001-of-00002.gguf");
  }

  @Test
  void aDirectoryWithThousandsOfFilesMakesABoundedListAndCountsTheRest() throws Exception {
    for (int i = 0; i < 2000; i++) {
      write(String.format("m%04d.gguf", i), 1);
    }

    ModelDirectory.Scan scan = ModelDirectory.scan(dir, 50);

    assertThat(scan.files()).hasSize(50);
    assertThat(scan.files().get(0).name()).isEqualTo("m0000");
    assertThat(scan.files().get(49).name()).isEqualTo("m0049");
    assertThat(scan.total()).isEqualTo(2000);
  }

  @Test
  void theCauseOfAFailedLoadIsLlamaServersErrorLines() {
    String tail = "0.00.003.284 I srv    load_model: loading model 'x.gguf' | 0.00.003.342 E gguf_init_from_reader: "
        + "failed to read key-value pairs | 0.00.003.402 E llama_model_load: error loading model | "
        + "0.00.003.402 E llama_model_load: error loading model | 0.00.003.522 E srv  llama_server: exiting";

    assertThat(LlamaServerOutput.cause(tail)).isEqualTo("gguf_init_from_reader: failed to read key-value pairs; "
        + "llama_model_load: error loading model; srv  llama_server: exiting");
    assertThat(LlamaServerOutput.cause("a | b | c | d")).isEqualTo("b; c; d");
    assertThat(LlamaServerOutput.cause("")).isEqualTo("(it printed nothing)");
  }
}
