import type { FastifyPluginAsync } from 'fastify';
import { createJobRequestSchema, jobAcceptedSchema, jobParamsSchema, jobStatusSchema } from '@rerank-pool/contracts';
import type { CreateJobRequest, JobAccepted, JobStatusBody } from '@rerank-pool/contracts';
import { toJobStatusBody } from '@rerank-pool/queue';
import { inputFromCohere, toJobPriority } from '../rerank-input.js';
import { errorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';

/** Asynchronous rerank: submit, poll, cancel. Jobs default to batch priority (offline work). */
export const jobRoutes: FastifyPluginAsync<RouteDeps> = async (app, { service, registry }) => {
  app.post<{ Body: CreateJobRequest }>('/v1/jobs', {
    schema: {
      summary: 'Submit a rerank job; poll status_url or receive a signed webhook at callback_url',
      tags: ['jobs'],
      body: createJobRequestSchema,
      response: { 202: jobAcceptedSchema, ...errorResponses },
    },
    handler: async (request, reply): Promise<JobAccepted> => {
      const body = request.body;
      const input = inputFromCohere(body, toJobPriority(body.priority, 'batch'), { callbackUrl: body.callback_url });
      const { jobId, created } = await service.submit(input, request.tenant, body.idempotency_key, traceCarrier(request.headers));
      // A resubmitted idempotency key answers with the existing job's current status.
      const status = created ? 'queued' : (await registry.queueFor(body.model).getJob(jobId, request.tenant)).status;
      reply.status(202);
      return { id: jobId, status, status_url: `/v1/jobs/${jobId}` };
    },
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', {
    schema: {
      summary: "A job's status, progress and, once completed, its ranked results",
      tags: ['jobs'],
      params: jobParamsSchema,
      response: { 200: jobStatusSchema, ...errorResponses },
    },
    handler: async (request): Promise<JobStatusBody> => {
      const { status } = await registry.findJob(request.params.id, request.tenant);
      return toJobStatusBody(status);
    },
  });

  app.delete<{ Params: { id: string } }>('/v1/jobs/:id', {
    schema: {
      summary: 'Cancel a queued job (409 once it is active or finished)',
      tags: ['jobs'],
      params: jobParamsSchema,
      response: { 200: jobStatusSchema, ...errorResponses },
    },
    handler: async (request): Promise<JobStatusBody> => {
      const { queue } = await registry.findJob(request.params.id, request.tenant);
      return toJobStatusBody(await queue.cancel(request.params.id, request.tenant));
    },
  });
};
