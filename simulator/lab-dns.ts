// The DNS of a run: the simulator's mock DNS on loopback with the scenario's records
// and its DNSBL zones listing the addresses of the actors they name. The in-process
// proxy asks it (and nothing else), so a run never waits on a real resolver; a
// target proxy can be pointed at it (its address is in run.start).
import { listName } from '../proxy/reputation.ts';
import { MockDns } from './mock-dns.ts';
import type { Plan } from './plan.ts';

export async function startLabDns(plan: Plan): Promise<MockDns> {
  const dns = new MockDns(plan.scenario.dns.records.map((r) => ({ ...r })));
  for (const zone of plan.scenario.dns.dnsbl) {
    for (const actor of plan.actors.filter((a) => zone.listed.includes(a.name))) {
      for (const ip of actor.clients) dns.add({ name: listName(ip, zone.zone), type: 'A', data: zone.answer });
    }
  }
  return dns.start();
}
