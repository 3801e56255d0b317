// The tracking plan (埋点方案): which events channels may send and the typed properties each carries, stored as data
// so operators can read and extend it without a release.
import { Schema, type Model } from 'mongoose';

export type PropertyType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'ID' | 'STRING_MAP';

export interface TrackedPropertyDoc {
  name: string;
  type: PropertyType;
  required: boolean;
  description: string;
}

export interface TrackedEventDoc {
  /** The event name. */
  _id: string;
  description: string;
  properties: TrackedPropertyDoc[];
  updatedAt: Date;
  updatedBy: string;
}

const propertySchema = new Schema<TrackedPropertyDoc>(
  {
    name: { type: String, required: true },
    type: { type: String, required: true },
    required: { type: Boolean, required: true },
    description: { type: String, required: true },
  },
  { _id: false },
);

export const trackedEventSchema = new Schema<TrackedEventDoc>(
  {
    _id: { type: String, required: true },
    description: { type: String, required: true },
    properties: { type: [propertySchema], default: [] },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'tracking_plan', versionKey: false },
);

export class TrackingPlanRepository {
  constructor(readonly model: Model<TrackedEventDoc>) {}

  all(): Promise<TrackedEventDoc[]> {
    return this.model.find({}).sort({ _id: 1 }).lean<TrackedEventDoc[]>().exec();
  }

  findByName(name: string): Promise<TrackedEventDoc | null> {
    return this.model.findById(name).lean<TrackedEventDoc>().exec();
  }

  /** Adds a property to a stored definition that has none of that name; a definition that is not stored stays so. */
  async addPropertyIfMissing(name: string, property: TrackedPropertyDoc): Promise<void> {
    await this.model
      .updateOne(
        { _id: name, 'properties.name': { $ne: property.name } },
        { $push: { properties: property } },
      )
      .exec();
  }

  /** Stores a definition no event of its name has yet; one stored already is left as it is. */
  async addIfMissing(definition: TrackedEventDoc): Promise<void> {
    const { _id, ...rest } = definition;
    await this.model.updateOne({ _id }, { $setOnInsert: rest }, { upsert: true }).exec();
  }

  /** Adds or replaces a definition; returns it as stored. */
  async save(definition: TrackedEventDoc): Promise<TrackedEventDoc> {
    const { _id, ...rest } = definition;
    await this.model.replaceOne({ _id }, rest, { upsert: true }).exec();
    return definition;
  }
}
