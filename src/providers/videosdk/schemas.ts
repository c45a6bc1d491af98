import { z } from 'zod';

/** VideoSDK "AI deployment" session API shapes. Request casing `endPoint`/`metaData`, response `endpoint`/`metadata`. */
export const VideoSdkSessionStatusSchema = z.string(); // queued | running | stopping | completed | failed (documented loosely)

export const VideoSdkSessionSchema = z.looseObject({
  sessionId: z.string(),
  status: VideoSdkSessionStatusSchema.nullish(),
  deploymentId: z.string().nullish(),
  tag: z.string().nullish(),
  start: z.string().nullish(),
  end: z.string().nullish(),
  duration: z.number().nullish(),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
});
export type VideoSdkSession = z.infer<typeof VideoSdkSessionSchema>;

export const StartVideoSdkSessionResponseSchema = z.looseObject({ message: z.string().nullish(), data: VideoSdkSessionSchema });
export const EndVideoSdkSessionResponseSchema = StartVideoSdkSessionResponseSchema;

export const VideoSdkSessionListSchema = z.looseObject({
  data: z.array(VideoSdkSessionSchema.extend({ metadata: z.unknown().optional(), webhook: z.unknown().optional() })),
  pageInfo: z.looseObject({ totalItems: z.number().nullish(), currentPage: z.number().nullish(), perPage: z.number().nullish(), total: z.number().nullish() }).nullish(),
});

export interface StartVideoSdkSessionRequest {
  deploymentId?: string;
  tag?: string;
  env?: Record<string, string>;
  metaData?: Record<string, unknown>;
  webhook?: { endPoint: string; events: string[] };
}
