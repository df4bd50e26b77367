/**
 * The Vert.x codegen module of the node's options: the annotation processor needs one named module around the
 * {@code @DataObject} options classes to write their JSON converters.
 */
@ModuleGen(name = "switchboard-node", groupPackage = "io.switchboard.node")
package io.switchboard.node;

import io.vertx.codegen.annotations.ModuleGen;
