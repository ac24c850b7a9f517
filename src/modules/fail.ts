// `fail`: stop this host with a message.
import { defineModule } from './define.js';

export const failModule = defineModule({
  id: 'fail',
  meta: { runsOn: 'deploy-host' },
  freeForm: 'msg',
  schema: { type: 'object', properties: { msg: {} }, additionalProperties: false },
  async *plan(_ctx, args) {
    const msg = args.msg === undefined ? 'Failed as requested from task' : typeof args.msg === 'string' ? args.msg : JSON.stringify(args.msg);
    return { changed: false, failed: true, msg };
  },
});
