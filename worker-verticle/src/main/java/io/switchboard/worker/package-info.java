/**
 * The Vert.x codegen module of the worker's options: the annotation processor needs one named module around the
 * {@code @DataObject} options classes to write their JSON converters.
 */
@ModuleGen(name = "switchboard-worker", groupPackage = "io.switchboard.worker")
package io.switchboard.worker;

import io.vertx.codegen.annotations.ModuleGen;
