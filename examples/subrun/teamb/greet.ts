/**
 * Team B's code, called by the example workflow only through the federated entry point
 * `teamb_greet` (teamb/.redun/redun.ini): the caller never imports this module.
 */
import { namespace } from "redun";

const { task } = namespace("teamb");

export const greet = task(function greet(name: string) {
  return `hello ${name}, from team B`;
});
