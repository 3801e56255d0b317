// The unified tag library.
import { Schema, type Model } from 'mongoose';

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

  async upsertMany(definitions: readonly TagDefinitionDoc[]): Promise<void> {
    if (definitions.length === 0) return;
    await this.model.bulkWrite(
      definitions.map(({ _id, ...rest }) => ({
        updateOne: { filter: { _id }, update: { $set: rest }, upsert: true },
      })),
    );
  }
}
