// A GraphQL document with the types of its answer and variables, parsed once when the module loads.
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@apollo/client';

export const document = <TData, TVariables extends Record<string, unknown> = Record<string, never>>(
  source: string,
): TypedDocumentNode<TData, TVariables> => parse(source) as TypedDocumentNode<TData, TVariables>;
