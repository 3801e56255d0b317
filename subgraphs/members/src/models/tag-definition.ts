// The unified tag library.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export type TagValueType = 'BOOLEAN' | 'NUMBER' | 'STRING' | 'STRING_LIST';
export type TagSource = 'MANUAL' | 'COMPUTED' | 'IMPORTED';

export interface TagDefinitionDoc {
  _id: string;
  name: string;
  category: string;
  valueType: TagValueType;
  source: TagSource;
  description: string | null;
  updatedAt: Date;
}

export const tagDefinitionSchema = new Schema<TagDefinitionDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    category: { type: String, required: true },
    valueType: { type: String, required: true },
    source: { type: String, required: true },
    description: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'tag_definitions', versionKey: false },
);

export class TagDefinitionRepository {
  constructor(readonly model: Model<TagDefinitionDoc>) {}

  all(): Promise<TagDefinitionDoc[]> {
    return this.model.find({}).sort({ category: 1, _id: 1 }).lean<TagDefinitionDoc[]>().exec();
  }

  /**
   * Creates or updates a definition, never changing a stored value type: the type is part of the filter, so a
   * definition stored with another type (also one another call stored a moment ago) makes the upsert insert a
   * second document under the code, which the unique _id refuses. Returns the definition as it was before (null for
   * a new one), or 'otherValueType'.
   */
  async define(
    definition: TagDefinitionDoc,
  ): Promise<{ before: TagDefinitionDoc | null } | 'otherValueType'> {
    const { _id, valueType, ...rest } = definition;
    const write = (upsert: boolean) =>
      this.model
        .findOneAndUpdate({ _id, valueType }, { $set: rest }, { upsert, returnDocument: 'before' })
        .lean<TagDefinitionDoc>()
        .exec();
    try {
      return { before: await write(true) };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Another call inserted the code first: of the same type, this is an update of it.
      const before = await write(false);
      return before ? { before } : 'otherValueType';
    }
  }
}
