/**
 * The Vert.x codegen module of the gateway's options: the annotation processor needs one named module around the
 * {@code @DataObject} options classes to write their JSON converters.
 */
@ModuleGen(name = "switchboard-gateway", groupPackage = "io.switchboard.gateway")
package io.switchboard.gateway;

import io.vertx.codegen.annotations.ModuleGen;
